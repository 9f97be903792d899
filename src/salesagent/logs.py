"""JSON-lines logging in the seed's format.

``{"timestamp", "level", "service", "message", "context": {...}}``. Pass structured context with
``log.info("FSM transition", extra={"context": {...}})``. Phone numbers and names in the context
are masked unless ``SALESAGENT_LOG_PII`` is set, so logs can leave the clinic. So are caller
numbers in URLs inside a message: FreeSWITCH passes ``/audiofork?caller=+79161234567`` and
uvicorn's access and WebSocket lines print the whole path with its query.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

_CALLER_KEYS = {"caller", "from", "caller_id_number", "calleridnumber", "ani"}
"""Where the bridges read the caller's number (``?caller=`` of /audiofork, Twilio's ``From``...)."""
_PHONE_KEYS = {"phone", "caller_id", *_CALLER_KEYS}
_PII_KEYS = {"client_name", "name", *_PHONE_KEYS}
_PHONE_RE = re.compile(r"\+?\d[\d\- ]{8,}\d")
_QUERY_SECRET_RE = re.compile(r"(?i)([?&;](?:token|access_token)=)[^&;\s\"']*")
_QUERY_PII_RE = re.compile(r"(?i)([?&;](?:caller|from|caller_id_number|callerIdNumber|ani|phone)=)([^&;\s\"']*)")


def mask_phone(value: str) -> str:
    """``+79161234567`` -> ``+7916***4567``: enough to tell calls apart, not to dial."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 7:
        return "***"
    return f"+{digits[:4]}***{digits[-4:]}"


def mask_value(key: str, value: Any) -> Any:
    key = key.lower()
    if value is None or key not in _PII_KEYS:
        return value
    text = str(value)
    if key in _PHONE_KEYS:
        return mask_phone(text)
    return text[:1] + "***" if text else text


def mask_query(text: str) -> str:
    """Caller numbers in URL query parameters (``?caller=%2B79161234567``) -> ``+7916***4567``."""
    if "=" not in text:
        return text
    text = _QUERY_SECRET_RE.sub(lambda m: m.group(1) + "***", text)
    return _QUERY_PII_RE.sub(lambda m: m.group(1) + (mask_phone(unquote_plus(m.group(2))) if m.group(2) else ""), text)


def mask_context(context: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, dict):
            out[key] = mask_context(value)
        else:
            out[key] = mask_value(key, value)
    return out


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, mask_pii: bool = True) -> None:
        super().__init__()
        self.service = service
        self.mask_pii = mask_pii

    def format(self, record: logging.LogRecord) -> str:
        context = dict(getattr(record, "context", {}) or {})
        if self.mask_pii:
            context = mask_context(context)
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "level": record.levelname,
            "service": getattr(record, "service", None) or self.service,
            "message": mask_query(record.getMessage()) if self.mask_pii else record.getMessage(),
            "context": context,
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def setup_logging(service: str = "salesagent", level: str = "INFO", mask_pii: bool = True, stream=None) -> None:
    """Route every logger to one JSON-lines handler (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service, mask_pii=mask_pii))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "uvicorn.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
