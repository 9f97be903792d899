"""Google Sheets sink: appends rows to worksheet "Лист4" of the clinic's spreadsheet.

Built on ``gspread-asyncio`` with a service account (``GOOGLE_CREDENTIALS_PATH``, the JSON key
Google gives you; share the sheet with its ``client_email``). Rows are sent with
``valueInputOption=RAW`` so a phone like ``+79161234567`` stays text and nothing a caller says can
become a formula. Append-only: the header is created on an empty sheet and otherwise only checked;
existing rows are never touched.

gspread-asyncio by default retries failed calls forever inside the call; here errors are turned
into :class:`SinkError` at once so the durable outbox does the backing off (and the counting, and
the dead-lettering) and a worker restart resumes where it was.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import gspread
import gspread_asyncio
import requests
from google.auth import exceptions as google_auth_errors
from google.oauth2.service_account import Credentials
from requests.adapters import HTTPAdapter

from salesagent.notify.lead import COLUMNS
from salesagent.notify.sinks.base import SinkError, header_plan, parse_retry_after, retryable_status

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
GOOGLE_SHEETS_ORIGIN = "https://sheets.googleapis.com"


class _RerouteAdapter(HTTPAdapter):
    """Sends requests meant for sheets.googleapis.com to another origin (an emulator or a proxy)."""

    def __init__(self, origin: str) -> None:
        super().__init__()
        parts = urlsplit(origin)
        self._scheme, self._netloc, self._prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")

    def send(self, request, **kwargs):  # type: ignore[override]
        parts = urlsplit(request.url)
        request.url = urlunsplit((self._scheme, self._netloc, self._prefix + parts.path, parts.query, ""))
        return super().send(request, **kwargs)


class _FailFastManager(gspread_asyncio.ClientManager):
    """Raise instead of gspread-asyncio's retry-forever; the outbox owns retries."""

    async def handle_gspread_error(self, e, method, args, kwargs):
        raise e

    async def handle_requests_error(self, e, method, args, kwargs):
        raise e


def load_credentials(path: Path) -> Credentials:
    """The service account from its JSON key; a clear one-line error when the file is wrong."""
    try:
        info = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise SinkError(f"GOOGLE_CREDENTIALS_PATH={path}: cannot read: {exc.strerror}", retryable=False) from exc
    except json.JSONDecodeError as exc:
        raise SinkError(f"GOOGLE_CREDENTIALS_PATH={path}: not JSON ({exc.msg})", retryable=False) from exc
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise SinkError(
            f"GOOGLE_CREDENTIALS_PATH={path}: not a service-account key (type != service_account)", retryable=False
        )
    try:
        return Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except (ValueError, KeyError) as exc:
        raise SinkError(f"GOOGLE_CREDENTIALS_PATH={path}: invalid service-account key: {exc}", retryable=False) from exc


def _classify(exc: BaseException) -> SinkError:
    if isinstance(exc, SinkError):
        return exc
    if isinstance(exc, gspread.exceptions.APIError):
        status = exc.response.status_code
        retry_after = parse_retry_after(exc.response.headers.get("Retry-After"))
        return SinkError(
            f"Google Sheets HTTP {status}: {str(exc)[:300]}",
            retryable=retryable_status(status),
            retry_after=retry_after,
        )
    if isinstance(exc, gspread.exceptions.WorksheetNotFound):
        return SinkError(f"worksheet {exc} not found in the spreadsheet", retryable=False)
    if isinstance(exc, requests.Timeout):
        return SinkError(f"Google Sheets request timed out: {exc}")
    if isinstance(exc, requests.RequestException):
        return SinkError(f"Google Sheets connection failed: {exc}")
    if isinstance(exc, google_auth_errors.RefreshError):
        return SinkError(f"Google token refused: {exc}", retryable=True)
    if isinstance(exc, google_auth_errors.TransportError):
        return SinkError(f"Google token endpoint unreachable: {exc}")
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return SinkError("Google Sheets request timed out")
    return SinkError(f"Google Sheets: {type(exc).__name__}: {exc}")


class GoogleSheetsSink:
    name = "google"

    def __init__(
        self,
        credentials_path: Path,
        sheet_id: str,
        worksheet: str = "Лист4",
        *,
        api_base: str = GOOGLE_SHEETS_ORIGIN,
        request_timeout_s: float = 20.0,
        min_interval_s: float = 1.1,
    ) -> None:
        self.sheet_id = sheet_id
        self.worksheet_title = worksheet
        self.api_base = api_base.rstrip("/")
        self._credentials = load_credentials(credentials_path)
        self._manager = _FailFastManager(
            lambda: self._credentials, gspread_delay=min_interval_s, gspread_timeout=request_timeout_s
        )
        self._ws: gspread_asyncio.Worksheet | None = None
        self._lock = asyncio.Lock()

    async def _worksheet(self) -> gspread_asyncio.Worksheet:
        if self._ws is not None:
            return self._ws
        client = await self._manager.authorize()
        if self.api_base != GOOGLE_SHEETS_ORIGIN:
            client.gc.http_client.session.mount(GOOGLE_SHEETS_ORIGIN + "/", _RerouteAdapter(self.api_base))
        spreadsheet = await client.open_by_key(self.sheet_id)
        ws = await spreadsheet.worksheet(self.worksheet_title)
        existing = await ws.row_values(1)
        plan = header_plan(existing)
        if plan is not None:
            start = len([c for c in existing if c.strip()])
            cell = gspread.utils.rowcol_to_a1(1, start + 1)
            await ws.update([plan[start:]], cell, value_input_option=gspread.utils.ValueInputOption.raw)
        self._ws = ws
        return ws

    async def _guarded(self, coro_fn):
        async with self._lock:
            try:
                return await coro_fn()
            except Exception as exc:  # every failure becomes a SinkError the worker understands
                if not isinstance(exc, SinkError):
                    self._ws = None  # re-open on the next call: token, sheet or header may have changed
                raise _classify(exc) from exc

    async def find_call_ids(self, call_ids: set[str]) -> set[str]:
        async def run() -> set[str]:
            ws = await self._worksheet()
            column = await ws.col_values(len(COLUMNS))
            return set(column[1:]) & call_ids

        return await self._guarded(run)

    async def append(self, rows: list[list[str]]) -> None:
        async def run() -> None:
            ws = await self._worksheet()
            await ws.append_rows(
                rows,
                value_input_option=gspread.utils.ValueInputOption.raw,
                insert_data_option=gspread.utils.InsertDataOption.insert_rows,
                table_range="A1",
            )

        await self._guarded(run)

    async def aclose(self) -> None:
        self._ws = None
