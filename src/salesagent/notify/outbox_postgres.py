"""PostgreSQL outbox: the production store.

Why PostgreSQL and not Redis: a lead is money, and a committed PostgreSQL transaction is on disk
(WAL fsync) before ``enqueue`` returns, whereas Redis acknowledges writes that its default
``appendfsync everysec`` can still lose in a crash. PostgreSQL also gives the unique key that
makes ``enqueue`` idempotent, ``FOR UPDATE SKIP LOCKED`` so several delivery workers (one per
service replica) share the queue without double-claiming, and plain SQL for reports.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from salesagent.notify.lead import Lead
from salesagent.notify.outbox import LeadState, OutboxEntry, OutboxError, encode

_COLUMNS = (
    "call_id, seq, lead, row, state, attempts, next_attempt_at, last_error, created_at, delivered_at, "
    "lease_until, attempt_base"
)


def _entry(r: tuple) -> OutboxEntry:
    return OutboxEntry(
        call_id=r[0],
        seq=r[1],
        lead=Lead.model_validate(r[2]),
        row=list(r[3]),
        state=LeadState(r[4]),
        attempts=r[5],
        next_attempt_at=r[6],
        last_error=r[7],
        created_at=r[8],
        delivered_at=r[9],
        lease_until=r[10],
        attempt_base=r[11],
    )


class PostgresOutbox:
    def __init__(self, dsn: str, tz: ZoneInfo, table: str = "salesagent_leads") -> None:
        if not table.replace("_", "").isalnum():
            raise OutboxError(f"lead outbox: bad table name {table!r}")
        self.dsn = dsn
        self.tz = tz
        self.t = table
        self._lock = threading.Lock()
        self._db: psycopg.Connection | None = None
        self._run(self._create_schema)

    def _create_schema(self, c: psycopg.Cursor) -> None:
        """Idempotent, and safe when several workers start at once: CREATE TABLE IF NOT EXISTS
        alone races (two see no table, one fails on pg_type's unique index), so the creators take
        a transaction-scoped advisory lock on the table's name first."""
        c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"salesagent-outbox:{self.t}",))
        c.execute(
            f"""CREATE TABLE IF NOT EXISTS {self.t} (
                seq BIGSERIAL PRIMARY KEY,
                call_id TEXT NOT NULL UNIQUE,
                lead JSONB NOT NULL,
                row JSONB NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                attempt_base INTEGER NOT NULL DEFAULT 0,
                next_attempt_at DOUBLE PRECISION NOT NULL,
                lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
                lease_owner TEXT,
                last_error TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                delivered_at DOUBLE PRECISION
            );
            CREATE INDEX IF NOT EXISTS {self.t}_due ON {self.t} (state, next_attempt_at)"""
        )

    def _connect(self) -> psycopg.Connection:
        if self._db is None or self._db.closed or self._db.broken:
            try:
                self._db = psycopg.connect(self.dsn, connect_timeout=10)
            except psycopg.Error as exc:
                raise OutboxError(f"lead outbox postgres: cannot connect: {exc}".splitlines()[0]) from exc
        return self._db

    def _run(self, fn: Callable[[psycopg.Cursor], Any]) -> Any:
        """One transaction, committed before returning; one reconnect if the connection broke."""
        with self._lock:
            for attempt in (1, 2):
                db = self._connect()
                try:
                    with db.transaction(), db.cursor() as cur:
                        return fn(cur)
                except psycopg.OperationalError as exc:
                    if attempt == 2 or not db.broken:
                        raise OutboxError(f"lead outbox postgres: {exc}".splitlines()[0]) from exc
        raise AssertionError("unreachable")

    def enqueue(self, lead: Lead) -> bool:
        lead_json, row_json = encode(lead, self.tz)
        now = time.time()
        return self._run(
            lambda c: (
                c.execute(
                    f"INSERT INTO {self.t} (call_id, lead, row, next_attempt_at, created_at) "
                    "VALUES (%s, %s::jsonb, %s::jsonb, %s, %s) ON CONFLICT (call_id) DO NOTHING",
                    (lead.call_id, lead_json, row_json, now, now),
                ).rowcount
                == 1
            )
        )

    def claim(self, limit: int, now: float, lease_s: float, owner: str) -> list[OutboxEntry]:
        def run(c: psycopg.Cursor) -> list[OutboxEntry]:
            c.execute(
                f"""UPDATE {self.t} SET attempts=attempts+1, lease_until=%s, lease_owner=%s
                WHERE call_id IN (
                    SELECT call_id FROM {self.t}
                    WHERE state='pending' AND next_attempt_at<=%s AND lease_until<=%s
                    ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED)
                RETURNING {_COLUMNS}""",
                (now + lease_s, owner, now, now, limit),
            )
            return sorted((_entry(r) for r in c.fetchall()), key=lambda e: e.seq)

        return self._run(run)

    def mark_delivered(self, call_ids: list[str], now: float, owner: str) -> None:
        if call_ids:
            self._run(
                lambda c: c.execute(
                    f"UPDATE {self.t} SET state='delivered', delivered_at=%s, lease_until=0, last_error=NULL "
                    "WHERE call_id = ANY(%s) AND state='pending'",
                    (now, call_ids),
                )
            )

    def mark_failed(self, call_id: str, error: str, next_attempt_at: float, owner: str) -> None:
        self._run(
            lambda c: c.execute(
                f"UPDATE {self.t} SET last_error=%s, next_attempt_at=%s, lease_until=0 "
                "WHERE call_id=%s AND state='pending' AND lease_owner=%s",
                (error[:1000], next_attempt_at, call_id, owner),
            )
        )

    def mark_dead(self, call_id: str, error: str, owner: str) -> None:
        self._run(
            lambda c: c.execute(
                f"UPDATE {self.t} SET state='dead', last_error=%s, lease_until=0 "
                "WHERE call_id=%s AND state='pending' AND lease_owner=%s",
                (error[:1000], call_id, owner),
            )
        )

    def retry_dead(self, call_ids: list[str] | None = None) -> int:
        now = time.time()
        where = "state='dead'" + ("" if call_ids is None else " AND call_id = ANY(%s)")
        args: tuple = (now,) if call_ids is None else (now, call_ids)
        return self._run(
            lambda c: (
                c.execute(
                    f"UPDATE {self.t} SET state='pending', attempt_base=attempts, next_attempt_at=%s WHERE {where}",
                    args,
                ).rowcount
            )
        )

    def list(self, state: LeadState | None = None, limit: int | None = None) -> list[OutboxEntry]:
        sql = f"SELECT {_COLUMNS} FROM {self.t}"
        args: list = []
        if state is not None:
            sql += " WHERE state=%s"
            args.append(state.value)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT %s"
            args.append(limit)
        return self._run(lambda c: [_entry(r) for r in c.execute(sql, args).fetchall()])

    def get(self, call_id: str) -> OutboxEntry | None:
        r = self._run(lambda c: c.execute(f"SELECT {_COLUMNS} FROM {self.t} WHERE call_id=%s", (call_id,)).fetchone())
        return _entry(r) if r else None

    def counts(self) -> dict[LeadState, int]:
        rows = dict(self._run(lambda c: c.execute(f"SELECT state, count(*) FROM {self.t} GROUP BY state").fetchall()))
        return {s: rows.get(s.value, 0) for s in LeadState}

    def next_due_at(self) -> float | None:
        return self._run(
            lambda c: c.execute(
                f"SELECT min(greatest(next_attempt_at, lease_until)) FROM {self.t} WHERE state='pending'"
            ).fetchone()[0]
        )

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
