"""Reactive callers benchmark (issue 9): personas that react to the agent's words, final checks scored.

    nice .venv/bin/python bench/bench_callers.py [--sets dev,test] [--seed 1[,2,3]] [--failures] [--only ID]

Each set plays on a fresh live server (uvicorn over ``build_service``: SQLite store, booking
ledger, lead outbox) in its own data dir, callers one after another in file order, the clinic
clock frozen at Thursday 2026-12-03 10:00. Prints per set: callers, checks, checks right,
callers fully right, calls that never ended, phantom bookings (not booked, yet an appointment on
the slots or the lead) and invariant breaks (the fuzzer's invariants). ``--failures`` lists every
failed check (caller, check, expected, got) with the tail of that call's transcript.
Exit status 1 when an invariant broke.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("SALESAGENT_NOW", "2026-12-03T10:00:00+03:00")
os.environ["SALESAGENT_SESSION_STORE"] = os.environ.get("SALESAGENT_SESSION_STORE", "sqlite")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.callers import load_personas
from support.callers_run import SetResult, run_set, tail


def _row(result: SetResult) -> list[str]:
    checks = len(result.checks)
    pct = 100 * result.right / checks if checks else 0.0
    return [result.name, str(len(result.personas)), str(checks), f"{result.right} ({pct:.1f}%)",
            f"{result.callers_right()}/{len(result.personas)}", str(result.never_ended()),
            str(result.phantoms()), str(len(result.violations))]


def _table(results: list[SetResult]) -> None:
    head = ["set", "callers", "checks", "checks right", "callers fully right", "never ended",
            "phantom bookings", "invariant breaks"]
    rows = [head] + [_row(r) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for n, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def _failures(result: SetResult, turns: int) -> None:
    by_id = {rec.persona: rec for rec in result.records}
    failed = [c for c in result.checks if not c.ok]
    print(f"\n## {result.name}: {len(failed)} failed checks")
    for persona in result.personas:
        mine = [c for c in failed if c.caller == persona.id]
        broke = [v for v in result.violations if v.index == result.personas.index(persona)]
        if not mine and not broke:
            continue
        print(f"\n### {persona.id}  ({persona.note})")
        for c in mine:
            extra = f"  [{c.detail}]" if c.detail else ""
            print(f"  FAIL {c.name}: expected {c.expected!r}, got {c.got!r}{extra}")
        for v in broke:
            print(f"  INVARIANT {v.kind}: {v.detail}")
        print(tail(by_id[persona.id], turns))
    for v in (v for v in result.violations if v.index < 0):
        print(f"  INVARIANT (run) {v.kind}: {v.detail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="dev,test")
    parser.add_argument("--seed", default="1", help="comma-separated seeds: one row per set and seed")
    parser.add_argument("--failures", action="store_true", help="list failed checks with transcript tails")
    parser.add_argument("--turns", type=int, default=8, help="exchanges shown per failing call")
    parser.add_argument("--only", default="", help="comma-separated persona ids (a targeted rerun)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    from salesagent.clinic.profile import load_profile
    from salesagent.config import get_settings

    profile = load_profile()
    only = {x for x in args.only.split(",") if x}
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-callers-") as tmp:
        seeds = args.seed.split(",")
        for seed in seeds:
            for name in args.sets.split(","):
                personas = [p for p in load_personas(name) if not only or p.id in only]
                os.environ["SALESAGENT_DATA_DIR"] = str(Path(tmp) / f"{name}-{seed}")
                get_settings.cache_clear()
                result = run_set(profile, name, seed, personas)
                if len(seeds) > 1:
                    result.name = f"{name} seed {seed}"
                results.append(result)
    _table(results)
    if args.failures:
        for result in results:
            _failures(result, args.turns)
    return 1 if any(r.violations for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
