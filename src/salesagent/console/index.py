"""A SQLite index of the call records, so the calls list and the numbers stay fast with 10,000 calls.

The reports stay the truth (``<calls_dir>/<day>/<call>/report.json``); the index holds one row of
summary columns per call. :meth:`CallIndex.sync` is the backfill and the upkeep at once: it
remembers each day folder's mtime and reads only reports in folders it has not indexed yet, so a
request after one new call reads one file, not ten thousand.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
  folder TEXT PRIMARY KEY, call_id TEXT, day TEXT, started_at TEXT, caller TEXT, channel TEXT,
  status TEXT, study TEXT, booked TEXT, duration_s REAL, turns INTEGER, v2v_p50 REAL, variant TEXT,
  last_state TEXT, asr_conf REAL, v2v_all TEXT, path TEXT);
CREATE INDEX IF NOT EXISTS calls_started ON calls(started_at DESC);
CREATE INDEX IF NOT EXISTS calls_day ON calls(day, status, study);
CREATE TABLE IF NOT EXISTS days (day TEXT PRIMARY KEY, mtime_ns INTEGER);
"""
COLUMNS = ("folder", "call_id", "day", "started_at", "caller", "channel", "status", "study", "booked",
           "duration_s", "turns", "v2v_p50", "variant", "last_state", "asr_conf", "v2v_all", "path")


def summarize(report: dict[str, Any], folder: str, day: str, path: str) -> tuple[Any, ...]:
    """One row from one report; missing parts stay NULL (a crashed call still lists)."""
    slots = report.get("slots") or {}
    transcript = report.get("transcript") or []
    latency = report.get("latency") or {}
    confs = [e["confidence"] for e in transcript if e.get("role") == "caller" and e.get("confidence") is not None]
    v2v = [t.get("voice_to_voice_ms") for t in latency.get("turns") or [] if t.get("voice_to_voice_ms") is not None]
    states = report.get("state_path") or []
    return (folder, str(report.get("call_id") or folder), day, str(report.get("started_at") or ""),
            report.get("caller"), report.get("transport"), report.get("status"), slots.get("study_type"),
            slots.get("appointment_datetime"), report.get("duration_s"),
            sum(1 for e in transcript if e.get("role") == "caller"),
            (latency.get("voice_to_voice_ms") or {}).get("p50"), report.get("variant"),
            states[-1] if states else None, sum(confs) / len(confs) if confs else None, json.dumps(v2v), path)


class CallIndex:
    def __init__(self, db_path: Path, calls_root: Path) -> None:
        self.calls_root = Path(calls_root)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(db_path), check_same_thread=False)
        self.db.executescript(_SCHEMA)
        self.lock = threading.Lock()

    def sync(self) -> int:
        """Index the reports not indexed yet; returns how many rows were added."""
        if not self.calls_root.is_dir():
            return 0
        added = 0
        with self.lock:
            seen = dict(self.db.execute("SELECT day, mtime_ns FROM days").fetchall())
            for day_dir in self.calls_root.iterdir():
                if not (_DAY.match(day_dir.name) and day_dir.is_dir()):
                    continue
                mtime = day_dir.stat().st_mtime_ns
                if seen.get(day_dir.name) == mtime:
                    continue
                count, complete = self._index_day(day_dir)
                added += count
                if complete:  # a folder without its report yet (recording saved first) is read next time
                    self.db.execute("INSERT OR REPLACE INTO days VALUES (?, ?)", (day_dir.name, mtime))
            self.db.commit()
        return added

    def _index_day(self, day_dir: Path) -> tuple[int, bool]:
        known = {r[0] for r in self.db.execute("SELECT folder FROM calls WHERE day = ?", (day_dir.name,))}
        rows, complete = [], True
        for folder in day_dir.iterdir():
            report = folder / "report.json"
            if folder.name in known:
                continue
            if not report.is_file():
                complete = False
                continue
            try:
                data = json.loads(report.read_text("utf-8"))
            except (OSError, ValueError):
                log.warning("unreadable call report", extra={"context": {"path": str(report)}})
                continue
            rows.append(summarize(data, folder.name, day_dir.name, str(folder)))
        self.db.executemany(f"INSERT OR REPLACE INTO calls VALUES ({','.join('?' * len(COLUMNS))})", rows)
        return len(rows), complete

    def page(self, *, day: str | None = None, status: str | None = None, study: str | None = None,
             offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        """Newest first, filtered; (rows, total matching)."""
        where, args = [], []
        for column, value in (("day", day), ("status", status), ("study", study)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self.lock:
            total = self.db.execute(f"SELECT count(*) FROM calls {clause}", args).fetchone()[0]
            cur = self.db.execute(f"SELECT * FROM calls {clause} ORDER BY started_at DESC LIMIT ? OFFSET ?",
                                  [*args, limit, offset])
            rows = [dict(zip(COLUMNS, r, strict=True)) for r in cur.fetchall()]
        return rows, total

    def get(self, folder: str) -> dict[str, Any] | None:
        with self.lock:
            row = self.db.execute("SELECT * FROM calls WHERE folder = ? OR call_id = ?", (folder, folder)).fetchone()
        return dict(zip(COLUMNS, row, strict=True)) if row else None

    def choices(self) -> dict[str, list[str]]:
        """Distinct statuses and studies for the filter menus."""
        with self.lock:
            return {c: [r[0] for r in self.db.execute(f"SELECT DISTINCT {c} FROM calls WHERE {c} IS NOT NULL "
                                                       f"ORDER BY 1")] for c in ("status", "study")}

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def close(self) -> None:
        self.db.close()
