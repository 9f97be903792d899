"""A shared-secret token in front of every HTTP route and WebSocket of the project's servers.

Callers' phone numbers, names and transcripts are behind ``/session``; ``/dialog`` books slots;
the telephony WebSockets accept audio as a call. So when ``SALESAGENT_API_TOKEN`` is set, every
request must carry it, as ``Authorization: Bearer <token>``, an ``X-Salesagent-Token`` header, or
``?token=<token>`` in the URL (FreeSWITCH's ``uuid_audio_fork`` can only put it there). Health
probes stay open. Without a token a server binds loopback only: :func:`check_bind` refuses any
other address, so a public port is never open by accident. TLS belongs to the reverse proxy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

OPEN_PATHS = frozenset({"/health", "/healthz", "/ready", "/readyz"})

ASGIApp = Callable[..., Any]


class InsecureBindError(ValueError):
    """A non-loopback bind without a token."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: could be anything


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback address when no token protects it."""
    if not token and not is_loopback(host):
        raise InsecureBindError(
            f"refusing to listen on {host} without SALESAGENT_API_TOKEN: set a token (and put TLS in front), "
            "or bind 127.0.0.1"
        )


def exit_if_insecure_bind(host: str) -> None:
    """For the CLIs: one line on stderr and exit code 2 instead of an open public port."""
    import sys

    from salesagent.config import Settings

    try:
        check_bind(host, Settings().api_token)
    except InsecureBindError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _presented(scope: dict[str, Any], headers: dict[str, str]) -> list[str]:
    found = []
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        found.append(auth[7:].strip())
    if "x-salesagent-token" in headers:
        found.append(headers["x-salesagent-token"].strip())
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    found.extend(query.get("token", []))
    return found


TWILIO_PATH = "/twilio/media"


def twilio_signature(auth_token: str, url: str) -> str:
    """Twilio's ``X-Twilio-Signature`` of a WebSocket request: base64(HMAC-SHA1(auth token, URL))."""
    digest = hmac.new(auth_token.encode(), url.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _twilio_url(scope: dict[str, Any], headers: dict[str, str], public_url: str | None) -> str:
    """The URL Twilio dialled: the configured public base (behind a proxy) or the Host header."""
    base = public_url.rstrip("/") if public_url else f"wss://{headers.get('host', '')}"
    query = scope.get("query_string", b"").decode("latin-1")
    return base + scope.get("path", "") + (f"?{query}" if query else "")


class TokenAuth:
    """Pure ASGI middleware: 401 for HTTP, a refused handshake (403) for WebSockets.

    Twilio cannot add a header or a query parameter to its Media Streams URL, so ``/twilio/media``
    also accepts a valid ``X-Twilio-Signature`` when ``twilio_auth_token`` is configured."""

    def __init__(self, app: ASGIApp, token: str, open_paths: frozenset[str] = OPEN_PATHS,
                 twilio_auth_token: str | None = None, twilio_public_url: str | None = None) -> None:
        if not token:
            raise ValueError("TokenAuth needs a non-empty token")
        self.app = app
        self.token = token.encode()
        self.open_paths = open_paths
        self.twilio_auth_token = twilio_auth_token
        self.twilio_public_url = twilio_public_url

    def allowed(self, scope: dict[str, Any]) -> bool:
        if scope.get("path", "") in self.open_paths:
            return True
        if scope.get("path", "").startswith("/console"):  # staff log in; salesagent.console checks its cookie
            return True
        headers = _headers(scope)
        if any(hmac.compare_digest(t.encode(), self.token) for t in _presented(scope, headers)):
            return True
        return self._twilio_signed(scope, headers)

    def _twilio_signed(self, scope: dict[str, Any], headers: dict[str, str]) -> bool:
        if not self.twilio_auth_token or scope.get("path") != TWILIO_PATH:
            return False
        signature = headers.get("x-twilio-signature", "")
        expected = twilio_signature(self.twilio_auth_token, _twilio_url(scope, headers, self.twilio_public_url))
        return bool(signature) and hmac.compare_digest(signature.encode(), expected.encode())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket") or self.allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "missing or wrong token"})
            return
        body = json.dumps({"detail": "missing or wrong API token (Authorization: Bearer ...)"}).encode()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": body})


def client_headers(token: str | None = None) -> dict[str, str]:
    """What the project's own clients (the demo's callers, the SIP edge) send to its servers."""
    from salesagent.config import Settings

    token = token if token is not None else Settings().api_token
    return {"Authorization": f"Bearer {token}"} if token else {}


def protect(app: Any, token: str | None = None) -> Any:
    """Put :class:`TokenAuth` in front of a FastAPI/Starlette ``app`` when a token is configured
    (``token`` or ``SALESAGENT_API_TOKEN``); returns the app either way."""
    from salesagent.config import Settings

    settings = Settings()
    token = token if token is not None else settings.api_token
    if token:
        app.add_middleware(TokenAuth, token=token, twilio_auth_token=settings.twilio_auth_token,
                           twilio_public_url=settings.twilio_public_url)
    return app
