"""The one clock of the product.

Relative dates ("послезавтра", "в пятницу") are resolved against the clinic's local time.
``SALESAGENT_NOW`` (ISO 8601) freezes the clock for demos and tests; a naive value is read in
the clinic's time zone.
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo


class ClockError(ValueError):
    """SALESAGENT_NOW is set but is not an ISO 8601 timestamp."""


def now(tz: ZoneInfo | str) -> datetime:
    """Current time in ``tz`` (aware), or the frozen ``SALESAGENT_NOW``."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    frozen = os.environ.get("SALESAGENT_NOW")
    if frozen:
        try:
            value = datetime.fromisoformat(frozen)
        except ValueError as exc:
            raise ClockError(f"SALESAGENT_NOW={frozen!r} is not ISO 8601") from exc
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
    return datetime.now(zone)
