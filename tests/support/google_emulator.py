"""A local stand-in for Google: the OAuth token endpoint and the Sheets v4 calls gspread makes.

Used by the tests, the benchmark and offline demos, so the Google path runs end to end over real
HTTP with real service-account JWTs (RS256, verified against the key pair's public half), real
gspread requests and real failures (500s, 429 with ``Retry-After``, a reply that never comes after
the row was stored). Point a service-account JSON's ``token_uri`` at :attr:`token_uri` and the
notifier's ``SALESAGENT_NOTIFY_GOOGLE_API_BASE`` at :attr:`base_url`.

Implemented: ``POST /token``; ``GET /v4/spreadsheets/{id}`` (metadata); ``GET .../values/{range}``
(rows or columns); ``PUT .../values/{range}`` (update); ``POST .../values/{range}:append``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
_RANGE_CELL = re.compile(r"^([A-Z]*)(\d*)$")


def make_service_account(path: Path, token_uri: str, email: str = "leads@clinic-test.iam.gserviceaccount.com"):
    """Write a service-account JSON with a fresh RSA key pair; returns the public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "clinic-test",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    Path(path).write_text(json.dumps(info), "utf-8")
    return key.public_key()


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def parse_range(a1: str) -> tuple[str, tuple[int | None, int | None, int | None, int | None]]:
    """``'Лист4'!K1:K`` -> (sheet, (col1, row1, col2, row2)), 1-based, None = unbounded."""
    sheet, _, cells = a1.rpartition("!") if "!" in a1 else (a1, "", "")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    if not cells:
        return sheet, (None, None, None, None)
    start, _, end = cells.partition(":")
    end = end or start
    m1, m2 = _RANGE_CELL.match(start.upper()), _RANGE_CELL.match(end.upper())
    if not m1 or not m2:
        raise ValueError(f"bad range {a1!r}")

    def num(s: str) -> int | None:
        return int(s) if s else None

    c1, r1 = (_col_index(m1[1]) if m1[1] else None), num(m1[2])
    c2, r2 = (_col_index(m2[1]) if m2[1] else None), num(m2[2])
    return sheet, (c1, r1, c2, r2)


@dataclass
class Fault:
    kind: str  # "append", "values_get", "values_update", "metadata", "token", "any"
    count: int
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    store_then_stall_s: float = 0.0  # >0: store the rows, then reply only after this long


@dataclass
class Request:
    at: float
    method: str
    kind: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0


class GoogleEmulator:
    def __init__(self, sheet_id: str = "test-sheet", worksheets: tuple[str, ...] = ("Лист1", "Лист4")) -> None:
        self.sheet_id = sheet_id
        self.sheets: dict[str, list[list[str]]] = {title: [] for title in worksheets}
        self.public_keys: dict[str, Any] = {}
        self.tokens: set[str] = set()
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.append_started = threading.Event()
        self.release_appends = threading.Event()
        self.release_appends.set()
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up -------------------------------------------------------------------------------
    def start(self) -> GoogleEmulator:
        emulator = self

        class Handler(_Handler):
            emu = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="google-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release_appends.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    def service_account(self, path: Path, email: str = "leads@clinic-test.iam.gserviceaccount.com") -> Path:
        """Write a key file whose public key this emulator trusts."""
        self.public_keys[email] = make_service_account(path, self.token_uri, email)
        return path

    def add_fault(self, kind: str, count: int, status: int = 500, **kw: Any) -> Fault:
        fault = Fault(kind, count, status, **kw)
        with self.lock:
            self.faults.append(fault)
        return fault

    def rows(self, worksheet: str = "Лист4") -> list[list[str]]:
        with self.lock:
            return [list(r) for r in self.sheets[worksheet]]

    def requests_of(self, kind: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.kind == kind]

    # -- internals ------------------------------------------------------------------------------
    def take_fault(self, kind: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count > 0 and fault.kind in (kind, "any"):
                    fault.count -= 1
                    return fault
        return None

    def verify_assertion(self, assertion: str) -> str | None:
        """Check a service-account JWT (RS256); returns an error text or None when valid."""
        try:
            head_b64, claims_b64, sig_b64 = assertion.split(".")
            header, claims = json.loads(_b64(head_b64)), json.loads(_b64(claims_b64))
        except ValueError:
            return "malformed assertion"
        if header.get("alg") != "RS256":
            return "alg must be RS256"
        key = self.public_keys.get(claims.get("iss", ""))
        if key is None:
            return f"unknown service account {claims.get('iss')!r}"
        try:
            key.verify(_b64(sig_b64), f"{head_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return "bad signature"
        # google-auth signs for Google's own token endpoint whatever token_uri says; accept both.
        if claims.get("aud") not in (self.token_uri, GOOGLE_TOKEN_AUDIENCE):
            return f"aud {claims.get('aud')!r} is not this token endpoint"
        if "spreadsheets" not in claims.get("scope", ""):
            return "scope lacks spreadsheets"
        if float(claims.get("exp", 0)) < time.time():
            return "assertion expired"
        return None


class _Handler(BaseHTTPRequestHandler):
    emu: GoogleEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return None

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        reason = {429: "RESOURCE_EXHAUSTED", 401: "UNAUTHENTICATED", 404: "NOT_FOUND", 400: "INVALID_ARGUMENT"}
        self._reply(
            status,
            {"error": {"code": status, "message": message, "status": reason.get(status, "INTERNAL")}},
            headers,
        )

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        emu = self.emu
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        raw = self._body()
        parts = url.path.split("/")
        if url.path == "/token" and method == "POST":
            kind = "token"
        elif len(parts) == 4 and parts[1:3] == ["v4", "spreadsheets"] and method == "GET":
            kind = "metadata"
        elif len(parts) == 6 and parts[4] == "values":
            kind = {"GET": "values_get", "PUT": "values_update", "POST": "append"}[method]
        else:
            self._error(404, f"no such endpoint {method} {url.path}")
            return
        body: Any = raw.decode("utf-8", "replace")
        if raw and self.headers.get("Content-Type", "").startswith("application/json"):
            body = json.loads(raw)
        elif kind == "token":
            body = {k: v[0] for k, v in parse_qs(body).items()}
        record = Request(time.time(), method, kind, url.path, query, body)
        with emu.lock:
            emu.requests.append(record)

        fault = emu.take_fault(kind)
        if fault is not None and not fault.store_then_stall_s:
            record.status = fault.status
            self._error(fault.status, f"injected {fault.status}", fault.headers)
            return
        if kind == "token":
            self._token(body, record)
            return
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in emu.tokens:
            record.status = 401
            self._error(401, "Request had invalid authentication credentials.")
            return
        if parts[3] != emu.sheet_id:
            record.status = 404
            self._error(404, "Requested entity was not found.")
            return
        if kind == "metadata":
            record.status = 200
            self._reply(200, self._metadata())
            return
        a1 = unquote(parts[5])
        if kind == "append":
            a1 = a1.removesuffix(":append")
        try:
            sheet, bounds = parse_range(a1)
        except ValueError as exc:
            record.status = 400
            self._error(400, str(exc))
            return
        if sheet not in emu.sheets:
            record.status = 400
            self._error(400, f"Unable to parse range: {a1}")
            return
        if kind == "values_get":
            record.status = 200
            self._reply(200, self._values_get(sheet, bounds, a1, query))
        elif kind == "values_update":
            record.status = 200
            self._reply(200, self._values_update(sheet, bounds, body["values"]))
        else:
            with emu.lock:
                grid = emu.sheets[sheet]
                first = len(grid) + 1
                grid.extend([str(v) for v in row] for row in body["values"])
            emu.append_started.set()
            if fault is not None and fault.store_then_stall_s:
                time.sleep(fault.store_then_stall_s)
            emu.release_appends.wait()
            record.status = 200
            self._reply(
                200,
                {
                    "spreadsheetId": emu.sheet_id,
                    "updates": {"updatedRange": f"'{sheet}'!A{first}", "updatedRows": len(body["values"])},
                },
            )

    def _token(self, form: dict[str, str], record: Request) -> None:
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            record.status = 400
            self._reply(400, {"error": "unsupported_grant_type"})
            return
        problem = self.emu.verify_assertion(form.get("assertion", ""))
        if problem:
            record.status = 400
            self._reply(400, {"error": "invalid_grant", "error_description": problem})
            return
        token = "ya29.emu-" + secrets.token_urlsafe(16)
        with self.emu.lock:
            self.emu.tokens.add(token)
        record.status = 200
        self._reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _metadata(self) -> dict[str, Any]:
        return {
            "spreadsheetId": self.emu.sheet_id,
            "properties": {"title": "Клиника: заявки", "locale": "ru_RU", "timeZone": "Europe/Moscow"},
            "sheets": [
                {
                    "properties": {
                        "sheetId": index,
                        "title": title,
                        "index": index,
                        "sheetType": "GRID",
                        "gridProperties": {"rowCount": 1000, "columnCount": 26},
                    }
                }
                for index, title in enumerate(self.emu.sheets)
            ],
        }

    def _values_get(self, sheet: str, bounds, a1: str, query) -> dict[str, Any]:
        c1, r1, c2, r2 = bounds
        with self.emu.lock:
            grid = [list(r) for r in self.emu.sheets[sheet]]
        r1, c1 = r1 or 1, c1 or 1
        rows = grid[r1 - 1 : r2 if r2 is not None else None]
        cut = [r[c1 - 1 : c2 if c2 is not None else None] for r in rows]
        if query.get("majorDimension", ["ROWS"])[0] == "COLUMNS":
            width = max((len(r) for r in cut), default=0)
            cut = [[r[i] if i < len(r) else "" for r in cut] for i in range(width)]
        for line in cut:
            while line and line[-1] == "":
                line.pop()
        while cut and not cut[-1]:
            cut.pop()
        payload: dict[str, Any] = {"range": a1, "majorDimension": query.get("majorDimension", ["ROWS"])[0]}
        if cut:
            payload["values"] = cut
        return payload

    def _values_update(self, sheet: str, bounds, values: list[list[Any]]) -> dict[str, Any]:
        c1, r1, _, _ = bounds
        r1, c1 = r1 or 1, c1 or 1
        with self.emu.lock:
            grid = self.emu.sheets[sheet]
            for i, row in enumerate(values):
                while len(grid) < r1 + i:
                    grid.append([])
                line = grid[r1 - 1 + i]
                for j, value in enumerate(row):
                    while len(line) < c1 + j:
                        line.append("")
                    line[c1 - 1 + j] = str(value)
        return {"spreadsheetId": self.emu.sheet_id, "updatedRows": len(values)}
