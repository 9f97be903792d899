"""Webhook sink for CRMs: a signed JSON POST per batch.

Body: ``{"leads": [{"call_id", "columns": {header: value}, "status", "ended_at"}]}``. Headers:
``X-Salesagent-Timestamp`` (unix seconds) and ``X-Salesagent-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<timestamp>.<body>"`` with the shared secret, so the receiver can reject forged
and replayed posts. A webhook cannot be searched, so exactly-once needs the receiver's help: it
must de-duplicate on ``call_id`` (also sent as ``Idempotency-Key`` when the batch is one lead).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from salesagent.notify.lead import COLUMNS
from salesagent.notify.sinks.base import SinkError, parse_retry_after, retryable_status


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookSink:
    name = "webhook"

    def __init__(self, url: str, secret: str, *, request_timeout_s: float = 20.0) -> None:
        self.url = url
        self._secret = secret.encode()
        self._client = httpx.AsyncClient(timeout=request_timeout_s)

    async def find_call_ids(self, call_ids: set[str]) -> set[str]:
        return set()  # the receiver de-duplicates on call_id

    async def append(self, rows: list[list[str]]) -> None:
        leads = [{"call_id": r[-1], "columns": dict(zip(COLUMNS, r, strict=True))} for r in rows]
        body = json.dumps({"leads": leads}, ensure_ascii=False, separators=(",", ":")).encode()
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Salesagent-Timestamp": ts,
            "X-Salesagent-Signature": sign(self._secret, ts, body),
        }
        if len(rows) == 1:
            headers["Idempotency-Key"] = rows[0][-1]
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise SinkError(f"webhook {self.url}: timed out") from exc
        except httpx.HTTPError as exc:
            raise SinkError(f"webhook {self.url}: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        raise SinkError(
            f"webhook {self.url}: HTTP {response.status_code}: {response.text[:200]}",
            retryable=retryable_status(response.status_code),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    async def aclose(self) -> None:
        await self._client.aclose()
