"""Session stores: one interface, SQLite for the embedded default, Redis for production.

Stores are synchronous: the service runs a whole turn (lock, load, think, save) in a worker
thread, so a turn of one call never blocks the event loop that carries the audio of others.
Each store is also the booking ledger, so two calls never book the same slot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from salesagent.config import Settings
from salesagent.dialog.session import Session


class StoreUnavailable(RuntimeError):
    """The configured store does not answer (start-up fails fast with this)."""


class SessionStore(Protocol):
    def get(self, session_id: str) -> Session | None: ...

    def put(self, session: Session) -> None: ...

    def delete(self, session_id: str) -> bool: ...

    def lock(self, session_id: str) -> AbstractContextManager[None]: ...

    def expired_ids(self) -> list[str]:
        """Ids of sessions idle past the TTL; listing deletes nothing."""
        ...

    def get_expired(self, session_id: str) -> Session | None:
        """The session only if it is idle past the TTL (what ``get`` hides)."""
        ...

    def forget_lock(self, session_id: str) -> None:
        """Drop the in-process lock of a deleted session (stores whose locks live elsewhere: no-op)."""
        ...

    def ping(self) -> bool: ...

    def booked(self) -> list[datetime]: ...

    def book(self, when: datetime, session_id: str) -> bool: ...

    def close(self) -> None: ...


def open_store(settings: Settings) -> SessionStore:
    """The store named by ``SALESAGENT_SESSION_STORE``; raises StoreUnavailable if it is down."""
    if settings.session_store == "redis":
        from salesagent.dialog.store_redis import RedisSessionStore

        store: SessionStore = RedisSessionStore(
            settings.redis_url, ttl_s=settings.session_ttl_s, prefix=settings.redis_prefix
        )
    else:
        from salesagent.dialog.store_sqlite import SqliteSessionStore

        store = SqliteSessionStore(settings.ensure_data_dir() / "sessions.sqlite3", ttl_s=settings.session_ttl_s)
    if not store.ping():
        raise StoreUnavailable(f"session store {settings.session_store} does not answer")
    return store


def iter_ids(sessions: list[Session]) -> Iterator[str]:
    return (s.session_id for s in sessions)
