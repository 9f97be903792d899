"""Staff logins: scrypt password hashes from configuration and an HMAC-signed session cookie.

A signed cookie (user, expiry, HMAC) needs no session table, so several console processes behind a
balancer accept each other's cookies when they share ``SALESAGENT_CONSOLE_SECRET``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

COOKIE = "salesagent_console"
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$<salt hex>$<hash hex>``; scrypt so a leaked config does not give passwords away cheaply."""
    if not password:
        raise ValueError("empty password")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = hash_password(password, bytes.fromhex(salt_hex))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected.split("$")[2], digest_hex)


def parse_users(spec: str) -> dict[str, str]:
    """``name:hash`` entries separated by ``;`` or newlines -> {name: hash}; malformed entries skipped."""
    users: dict[str, str] = {}
    for entry in spec.replace("\n", ";").split(";"):
        name, sep, stored = entry.strip().partition(":")
        if sep and name and stored.startswith("scrypt$"):
            users[name] = stored
    return users


class Sessions:
    """Issue and check the cookie value ``user|expiry|hmac``."""

    def __init__(self, secret: str, hours: float) -> None:
        self.key = secret.encode("utf-8")
        self.ttl_s = hours * 3600

    def _mac(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode("utf-8"), hashlib.sha256).hexdigest()

    def issue(self, user: str) -> str:
        payload = f"{user}|{int(time.time() + self.ttl_s)}"
        return f"{payload}|{self._mac(payload)}"

    def user(self, cookie: str | None) -> str | None:
        if not cookie or cookie.count("|") != 2:
            return None
        user, expiry, mac = cookie.split("|")
        if not hmac.compare_digest(mac, self._mac(f"{user}|{expiry}")):
            return None
        if not expiry.isdigit() or int(expiry) < time.time():
            return None
        return user
