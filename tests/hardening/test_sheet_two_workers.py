"""Issue 12, finding 1: two delivery workers (two real processes) share one local sheet.

Before the fix both rewrote ``leads.xlsx`` through the same ``.leads.xlsx.tmp`` under a lock held
per process only: one torn zip ("Bad CRC-32") made the sheet unreadable and every later lead dead,
and two read-modify-writes that overlapped silently dropped each other's rows.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

from salesagent.notify import COLUMNS, LeadState
from salesagent.notify.outbox_sqlite import SqliteOutbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notify"))
from notify_helpers import make_lead

WRITER = Path(__file__).resolve().parents[1] / "support" / "lead_writer.py"
LEADS = 50


def test_two_worker_processes_deliver_every_lead_exactly_once(tmp_path: Path) -> None:
    outbox_path, sheet = tmp_path / "outbox.sqlite3", tmp_path / "leads.xlsx"
    outbox = SqliteOutbox(outbox_path, ZoneInfo("Europe/Moscow"))
    for n in range(LEADS):
        outbox.enqueue(make_lead(n))
    start_at = time.time() + 3  # both interpreters are up by then and begin together
    procs = [
        subprocess.Popen([sys.executable, str(WRITER), str(outbox_path), str(sheet), str(start_at)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
    assert leftovers == []
    wb = openpyxl.load_workbook(sheet)  # readable: no torn zip
    rows = [[c.value for c in r] for r in wb["Лист4"].iter_rows()]
    assert rows[0] == list(COLUMNS)
    ids = Counter(r[10] for r in rows[1:])
    assert sorted(ids) == sorted(f"call-{n:05d}" for n in range(LEADS)), outputs
    assert set(ids.values()) == {1}, {k: v for k, v in ids.items() if v > 1}
    assert outbox.counts()[LeadState.DELIVERED] == LEADS
    assert outbox.counts()[LeadState.DEAD] == 0
