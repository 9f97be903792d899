"""The cluster claims, at small scale: 2 agent worker processes behind a real HAProxy, a real
Redis, PostgreSQL outbox and ASR gateway (bench/cluster_harness.py), 3 simulated calls, one
worker SIGKILLed mid-call. Every call id must reach the webhook sink exactly once (the killed
worker's calls through Redis session expiry and a surviving worker's sweeper), and no slot may be
booked twice; every call on the surviving worker books. The same code, larger, is
bench/bench_cluster.py.
"""

from __future__ import annotations

import pytest
from bench.bench_cluster import print_report, run


@pytest.mark.timeout(420)
async def test_two_workers_one_killed_no_lead_lost_or_duplicated(capsys) -> None:
    s = await run(workers=2, calls=3, kill_one=True, wait_leads_s=120)
    with capsys.disabled():
        print()
        print_report(s)
    assert s["events"].get("killed") == "worker0"
    assert (s["lost"], s["duplicated"], s["double_booked"]) == (0, 0, 0), s
    assert s["once"] == 3
    # The killed worker's calls become "звонок прерван" leads (Redis expiry + a survivor's sweeper);
    # every call on the surviving worker runs to its booking.
    statuses = list(s["statuses"].values())
    assert "звонок прерван" in statuses, s["statuses"]
    assert s["survivor_calls"] >= 1, s["workers"]
    assert s["survivors_booked"] == s["survivor_calls"], (s["statuses"], s["workers"])
