"""Conversation fuzzer benchmark: 5000 randomized callers through POST /dialog, every invariant checked.

    nice .venv/bin/python bench/bench_fuzz.py [--calls 5000] [--batch 500] [--seed 1] [--workers 3]

Each batch is a fresh live server (uvicorn over ``build_service``: SQLite session store, booking
ledger, lead outbox) in a fresh data dir, so the ledger fills the way a busy fortnight does and
then starts again. Prints one table: calls, caller turns, end statuses, violations per invariant,
calls/s and turns/s; then the shortest failing transcript of each violation kind
(``--examples 0`` to leave them out). Exit status 1 when any invariant was broken.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("SALESAGENT_NOW", "2026-12-03T10:00:00+03:00")
os.environ["SALESAGENT_SESSION_STORE"] = os.environ.get("SALESAGENT_SESSION_STORE", "sqlite")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.fuzz_run import FuzzReport, run_fuzz

INVARIANTS = (
    "http_5xx", "http_4xx", "never_ends", "too_many_turns", "no_progress", "state_cycle", "no_status",
    "lead_missing", "phantom_appointment", "phantom_lead_date", "lead_status_mismatch",
    "booked_without_appointment", "booked_without_phone", "booked_without_study", "booked_bad_slot",
    "offered_bad_slot", "offered_booked_slot", "double_booking", "ledger_phantom", "ledger_missing",
    "unsafe_booking", "unsafe_booking_heard", "safety_not_asked", "safety_unresolved",
)


def _batches(total: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(size, total - start)) for start in range(0, total, size)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500, help="calls per fresh server and ledger")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--examples", type=int, default=1, help="failing transcripts shown per kind")
    parser.add_argument("--transcripts", type=Path, help="write every failing call's transcript to this file")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # "utterance cut" for every long caller would drown the table

    from salesagent.clinic.profile import load_profile
    from salesagent.config import get_settings

    profile = load_profile()
    total = FuzzReport(seed=args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
        for number, (first, count) in enumerate(_batches(args.calls, args.batch)):
            os.environ["SALESAGENT_DATA_DIR"] = str(Path(tmp) / f"batch-{number}")
            get_settings.cache_clear()
            report = run_fuzz(profile, count, args.seed, workers=args.workers, first_index=first)
            total.records += report.records
            total.violations += report.violations
            print(f"  batch {number}: {report.summary()}", file=sys.stderr, flush=True)
    total.wall_s = time.perf_counter() - started
    _table(total, args)
    if args.examples and total.violations:
        print("\n" + total.examples(per_kind=args.examples, limit_chars=200_000))
    if args.transcripts:
        args.transcripts.write_text(total.examples(per_kind=10**6, limit_chars=10**9), encoding="utf-8")
    return 1 if total.violations else 0


def _table(report: FuzzReport, args: argparse.Namespace) -> None:
    turns = [r.caller_turns for r in report.records] or [0]
    rows = [
        ("calls", f"{len(report.records)}"),
        ("caller turns", f"{report.turns} (per call p50 {statistics.median(turns):g}, "
                         f"p95 {sorted(turns)[int(0.95 * (len(turns) - 1))]}, max {max(turns)})"),
        ("seed / batch / workers", f"{args.seed} / {args.batch} / {args.workers}"),
        ("wall", f"{report.wall_s:.0f} s"),
        ("calls/s", f"{len(report.records) / report.wall_s:.1f}"),
        ("turns/s", f"{report.turns / report.wall_s:.0f}"),
    ]
    statuses = report.statuses()
    for status, n in statuses.most_common():
        rows.append((f"status {status}", f"{n} ({100 * n / max(1, len(report.records)):.1f}%)"))
    kinds = report.by_kind()
    calls_hit = Counter(v.kind for v in {(v.kind, v.index): v for v in report.violations}.values())
    for kind in (*INVARIANTS, *sorted(set(kinds) - set(INVARIANTS))):
        rows.append((f"violations {kind}", f"{kinds.get(kind, 0)} in {calls_hit.get(kind, 0)} calls"))
    width = max(len(k) for k, _ in rows)
    print(f"| {'conversation fuzzer':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for key, value in rows:
        print(f"| {key:<{width}} | {value} |")


if __name__ == "__main__":
    raise SystemExit(main())
