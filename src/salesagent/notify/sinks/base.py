"""The sink interface and its error type.

A sink is append-only: it adds rows and can tell which call ids it already holds, nothing else.
The worker decides retries; a sink only says whether an error is worth retrying and, for a 429 or
503, how long the server asked us to wait.
"""

from __future__ import annotations

import email.utils
import time
from typing import Protocol

from salesagent.notify.lead import COLUMNS, SEED_COLUMNS


class SinkError(Exception):
    """A delivery failed. ``retryable=False`` sends the leads straight to the dead letters."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class LeadSink(Protocol):
    name: str

    async def find_call_ids(self, call_ids: set[str]) -> set[str]:
        """Which of these call ids are already rows (used before re-sending a maybe-written row)."""
        ...

    async def append(self, rows: list[list[str]]) -> None:
        """Append rows in order, in one request where the backend allows it."""
        ...

    async def aclose(self) -> None: ...


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def retryable_status(status: int) -> bool:
    """408, 429 and 5xx are worth retrying; 401 too (the token is refreshed on the next call)."""
    return status in (401, 408, 429) or status >= 500


def header_plan(existing: list[str]) -> list[str] | None:
    """What to write into row 1, or None when the header is already right.

    An empty row 1 gets the full header. A sheet that has exactly the seed's ten columns (made
    before the call id existed) gets only the missing "ID звонка" cell; anything else is someone
    else's sheet layout, and we refuse rather than rewrite it.
    """
    cells = [c.strip() for c in existing]
    while cells and not cells[-1]:
        cells.pop()
    if not cells:
        return list(COLUMNS)
    if cells == list(COLUMNS):
        return None
    if cells == list(SEED_COLUMNS):
        return list(COLUMNS)
    raise SinkError(
        f"header row does not match the lead columns (found {cells!r}, expected {list(COLUMNS)!r}); "
        "fix row 1 of the worksheet or point the notifier at another worksheet",
        retryable=False,
    )
