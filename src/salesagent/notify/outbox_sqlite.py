"""SQLite outbox: the embedded default, one file under the data dir.

WAL journal with ``synchronous=FULL`` makes a commit durable across power loss; ``BEGIN IMMEDIATE``
serialises claims so two workers (or two processes) never lease the same lead.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from salesagent.notify.lead import Lead
from salesagent.notify.outbox import LeadState, OutboxEntry, OutboxError, encode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS leads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL UNIQUE,
    lead TEXT NOT NULL,
    row TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    attempt_base INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    lease_owner TEXT,
    last_error TEXT,
    created_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS leads_due ON leads (state, next_attempt_at);
"""
_COLUMNS = (
    "call_id, seq, lead, row, state, attempts, next_attempt_at, last_error, created_at, delivered_at, "
    "lease_until, attempt_base"
)


def _entry(r: tuple) -> OutboxEntry:
    return OutboxEntry(
        call_id=r[0],
        seq=r[1],
        lead=Lead.model_validate_json(r[2]),
        row=json.loads(r[3]),
        state=LeadState(r[4]),
        attempts=r[5],
        next_attempt_at=r[6],
        last_error=r[7],
        created_at=r[8],
        delivered_at=r[9],
        lease_until=r[10],
        attempt_base=r[11],
    )


class SqliteOutbox:
    def __init__(self, path: Path, tz: ZoneInfo) -> None:
        self.path = Path(path)
        self.tz = tz
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise OutboxError(f"lead outbox {self.path}: cannot open: {exc}") from exc

    def _tx(self, fn):
        """Run ``fn(cursor)`` in one immediate transaction (committed, or rolled back on error)."""
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                result = fn(cur)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
            return result

    def enqueue(self, lead: Lead) -> bool:
        lead_json, row_json = encode(lead, self.tz)
        now = time.time()
        try:
            return self._tx(
                lambda c: (
                    c.execute(
                        "INSERT OR IGNORE INTO leads (call_id, lead, row, next_attempt_at, created_at) "
                        "VALUES (?,?,?,?,?)",
                        (lead.call_id, lead_json, row_json, now, now),
                    ).rowcount
                    == 1
                )
            )
        except sqlite3.Error as exc:
            raise OutboxError(f"lead outbox {self.path}: cannot write: {exc}") from exc

    def claim(self, limit: int, now: float, lease_s: float, owner: str) -> list[OutboxEntry]:
        def run(c: sqlite3.Cursor) -> list[OutboxEntry]:
            ids = [
                r[0]
                for r in c.execute(
                    "SELECT call_id FROM leads WHERE state='pending' AND next_attempt_at<=? AND lease_until<=? "
                    "ORDER BY seq LIMIT ?",
                    (now, now, limit),
                )
            ]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            c.execute(
                f"UPDATE leads SET attempts=attempts+1, lease_until=?, lease_owner=? WHERE call_id IN ({marks})",
                (now + lease_s, owner, *ids),
            )
            rows = c.execute(f"SELECT {_COLUMNS} FROM leads WHERE call_id IN ({marks}) ORDER BY seq", ids)
            return [_entry(r) for r in rows]

        return self._tx(run)

    def mark_delivered(self, call_ids: list[str], now: float, owner: str) -> None:
        if not call_ids:
            return
        marks = ",".join("?" * len(call_ids))
        self._tx(
            lambda c: c.execute(
                f"UPDATE leads SET state='delivered', delivered_at=?, lease_until=0, last_error=NULL "
                f"WHERE call_id IN ({marks}) AND state='pending'",
                (now, *call_ids),
            )
        )

    def mark_failed(self, call_id: str, error: str, next_attempt_at: float, owner: str) -> None:
        self._tx(
            lambda c: c.execute(
                "UPDATE leads SET last_error=?, next_attempt_at=?, lease_until=0 "
                "WHERE call_id=? AND state='pending' AND lease_owner=?",
                (error[:1000], next_attempt_at, call_id, owner),
            )
        )

    def mark_dead(self, call_id: str, error: str, owner: str) -> None:
        self._tx(
            lambda c: c.execute(
                "UPDATE leads SET state='dead', last_error=?, lease_until=0 "
                "WHERE call_id=? AND state='pending' AND lease_owner=?",
                (error[:1000], call_id, owner),
            )
        )

    def retry_dead(self, call_ids: list[str] | None = None) -> int:
        now = time.time()
        if call_ids is None:
            return self._tx(
                lambda c: (
                    c.execute(
                        "UPDATE leads SET state='pending', attempt_base=attempts, next_attempt_at=? WHERE state='dead'",
                        (now,),
                    ).rowcount
                )
            )
        marks = ",".join("?" * len(call_ids))
        return self._tx(
            lambda c: (
                c.execute(
                    f"UPDATE leads SET state='pending', attempt_base=attempts, next_attempt_at=? "
                    f"WHERE state='dead' AND call_id IN ({marks})",
                    (now, *call_ids),
                ).rowcount
            )
        )

    def list(self, state: LeadState | None = None, limit: int | None = None) -> list[OutboxEntry]:
        sql = f"SELECT {_COLUMNS} FROM leads"
        args: list = []
        if state is not None:
            sql += " WHERE state=?"
            args.append(state.value)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            return [_entry(r) for r in self._db.execute(sql, args)]

    def get(self, call_id: str) -> OutboxEntry | None:
        with self._lock:
            r = self._db.execute(f"SELECT {_COLUMNS} FROM leads WHERE call_id=?", (call_id,)).fetchone()
        return _entry(r) if r else None

    def counts(self) -> dict[LeadState, int]:
        with self._lock:
            rows = dict(self._db.execute("SELECT state, count(*) FROM leads GROUP BY state").fetchall())
        return {s: rows.get(s.value, 0) for s in LeadState}

    def next_due_at(self) -> float | None:
        with self._lock:
            r = self._db.execute(
                "SELECT min(max(next_attempt_at, lease_until)) FROM leads WHERE state='pending'"
            ).fetchone()
        return r[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
