"""SQLite session store and booking ledger (the embedded default: no server needed).

WAL mode, one connection guarded by a lock; a per-session lock serialises two requests for the
same call. ``touched`` is wall-clock time (not SALESAGENT_NOW) so idle expiry works in demos.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from salesagent.dialog.session import Session

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  doc TEXT NOT NULL,
  touched REAL NOT NULL,
  done INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_touched ON sessions(touched);
CREATE TABLE IF NOT EXISTS bookings (
  slot TEXT PRIMARY KEY,
  session_id TEXT NOT NULL
);
"""


class SqliteSessionStore:
    def __init__(self, path: Path | str, ttl_s: int = 3600) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ttl_s = ttl_s
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._mutex = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_mutex = threading.Lock()

    def get(self, session_id: str) -> Session | None:
        with self._mutex:
            row = self._db.execute("SELECT doc, touched FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None or row[1] < time.time() - self.ttl_s:
            return None
        return Session.model_validate_json(row[0])

    def put(self, session: Session) -> None:
        doc = session.model_dump_json()
        with self._mutex:
            self._db.execute(
                "INSERT INTO sessions(id, doc, touched, done) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, touched = excluded.touched, done = excluded.done",
                (session.session_id, doc, time.time(), int(session.done)),
            )

    def delete(self, session_id: str) -> bool:
        with self._mutex:
            cur = self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        return cur.rowcount > 0

    @contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        with self._locks_mutex:
            lock = self._locks.setdefault(session_id, threading.Lock())
        with lock:
            yield

    def expired_ids(self) -> list[str]:
        """Sessions idle past the TTL, oldest first; nothing is deleted (the sweeper closes each first)."""
        cutoff = time.time() - self.ttl_s
        with self._mutex:
            rows = self._db.execute("SELECT id FROM sessions WHERE touched < ? ORDER BY touched", (cutoff,)).fetchall()
        return [r[0] for r in rows]

    def get_expired(self, session_id: str) -> Session | None:
        """The session if it is idle past the TTL (``get`` hides it), else None."""
        with self._mutex:
            row = self._db.execute("SELECT doc, touched FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None or row[1] >= time.time() - self.ttl_s:
            return None
        return Session.model_validate_json(row[0])

    def forget_lock(self, session_id: str) -> None:
        with self._locks_mutex:
            self._locks.pop(session_id, None)

    def ping(self) -> bool:
        try:
            with self._mutex:
                self._db.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def booked(self) -> list[datetime]:
        with self._mutex:
            rows = self._db.execute("SELECT slot FROM bookings").fetchall()
        return [datetime.fromisoformat(r[0]) for r in rows]

    def book(self, when: datetime, session_id: str) -> bool:
        with self._mutex:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO bookings(slot, session_id) VALUES (?, ?)", (when.isoformat(), session_id)
            )
            if cur.rowcount:
                return True
            row = self._db.execute("SELECT session_id FROM bookings WHERE slot = ?", (when.isoformat(),)).fetchone()
        return bool(row and row[0] == session_id)

    def close(self) -> None:
        with self._mutex:
            self._db.close()
