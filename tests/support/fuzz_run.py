"""One fuzz run: the real service on a live uvicorn server, fuzzed callers, every invariant checked.

Shared by the CI test (``tests/dialog/test_fuzz_conversations.py``) and ``bench/bench_fuzz.py``.
The server is built exactly as ``tests/dialog/conftest.py`` builds it (``build_service`` from the
settings in the environment: session store, data dir, clock), so the fuzzer exercises the session
store, the booking ledger and the lead outbox, not just the engine.
"""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from .fuzz import CallRecord, play_calls
from .fuzz_checks import Violation, check_call, check_run, transcript


@contextmanager
def live_server(profile) -> Iterator[tuple[str, object, object]]:
    """(base URL, outbox, service) of a policy-engine server over the configured store, in a thread."""
    import uvicorn

    from salesagent.config import get_settings
    from salesagent.notify import open_outbox
    from salesagent.services.dialog_api import create_app
    from salesagent.services.factory import build_service

    get_settings.cache_clear()
    service = build_service(get_settings(), profile=profile)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, limit_concurrency=512, backlog=512))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fuzz server did not start")
        time.sleep(0.02)
    outbox = open_outbox(tz=profile.tz)
    try:
        yield f"http://127.0.0.1:{port}", outbox, service
    finally:
        server.should_exit = True
        thread.join(10)
        outbox.close()
        service.store.close()


def frozen_now(profile) -> datetime:
    """SALESAGENT_NOW as the engine reads it (the fuzz checks need the same clock)."""
    from salesagent import clock

    return clock.now(profile.tz)


@dataclass
class FuzzReport:
    seed: str
    records: list[CallRecord] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def turns(self) -> int:
        return sum(r.caller_turns for r in self.records)

    def by_kind(self) -> Counter[str]:
        return Counter(v.kind for v in self.violations)

    def statuses(self) -> Counter[str]:
        return Counter(r.status for r in self.records)

    def turn_stats(self) -> tuple[float, int]:
        counts = [r.caller_turns for r in self.records] or [0]
        return statistics.median(counts), max(counts)

    def summary(self) -> str:
        p50, most = self.turn_stats()
        held = "invariants held" if not self.violations else f"{len(self.violations)} invariant violations"
        return (f"fuzz: {len(self.records)} calls played, {self.turns} turns, {held} "
                f"(seed {self.seed}, {self.wall_s:.0f} s, turns per call p50 {p50:g} max {most}, "
                f"statuses {dict(self.statuses())}, violations {dict(self.by_kind())})")

    def examples(self, per_kind: int = 1, limit_chars: int = 20000) -> str:
        """The shortest failing transcript of each violation kind."""
        by_index = {r.index: r for r in self.records}
        out = []
        for kind in sorted(self.by_kind()):
            failing = sorted({v.index for v in self.violations if v.kind == kind},
                             key=lambda i: by_index[i].caller_turns if i in by_index else -1)
            for index in failing[:per_kind]:
                details = "; ".join(v.detail for v in self.violations if v.index == index and v.kind == kind)
                story = transcript(by_index[index]) if index in by_index else "(the whole run: no one call)"
                out.append(f"--- {kind}: {details}\n{story}")
        return "\n".join(out)[:limit_chars]


def run_fuzz(profile, count: int, seed: str, workers: int = 8, first_index: int = 0) -> FuzzReport:
    """Play ``count`` calls on a fresh server (one store, one ledger) and check every invariant."""
    report = FuzzReport(seed=seed)
    started = time.perf_counter()
    with live_server(profile) as (url, outbox, service):

        def lead_row(call_id: str) -> list[str] | None:
            entry = outbox.get(call_id)
            return entry.row if entry else None

        report.records = play_calls(url, count, seed, workers=workers, lead_row=lead_row, first_index=first_index)
        ledger = service.store.booked()
    report.wall_s = time.perf_counter() - started
    now = frozen_now(profile)
    for rec in report.records:
        report.violations.extend(check_call(rec, profile, now))
    report.violations.extend(check_run(report.records, profile, now, ledger))
    return report


def calls_from_env(default: int) -> int:
    value = os.environ.get("SALESAGENT_FUZZ_CALLS", "").strip()
    return int(value) if value else default
