"""Opening the configured outbox: the one place that knows both backends, so that the outbox
types (:mod:`salesagent.notify.outbox`) and each backend import only downwards."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from salesagent.notify.config import NotifySettings
from salesagent.notify.outbox import Outbox


def clinic_tz() -> ZoneInfo:
    from salesagent.clinic.profile import load_profile
    from salesagent.config import get_settings

    return load_profile(get_settings().profile_path).tz


def open_outbox(settings: NotifySettings | None = None, tz: ZoneInfo | None = None) -> Outbox:
    """The configured outbox (SQLite file by default, PostgreSQL when configured).

    ``tz`` is the clinic's time zone used to format dates in the row; default: the clinic profile's.
    """
    settings = settings or NotifySettings()
    tz = tz or clinic_tz()
    if settings.outbox_backend == "postgres":
        from salesagent.notify.outbox_postgres import PostgresOutbox

        return PostgresOutbox(settings.postgres_dsn, tz, table=settings.postgres_table)
    from salesagent.notify.outbox_sqlite import SqliteOutbox

    return SqliteOutbox(settings.resolved_outbox_path(), tz)
