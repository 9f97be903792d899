"""Many workers, one truth: simulated calls through HAProxy into N agent worker processes, one
worker SIGKILLed mid-call and another SIGTERMed (drained), then the leads counted at the sink.

    .venv/bin/python bench/bench_cluster.py --workers 3 --calls 6 --kill-one

Exactly once, as counted here: every call id placed reaches the webhook sink once. A call whose
worker is SIGKILLed cannot finish; its session stays in Redis, expires (SALESAGENT_SESSION_TTL_S=40
here) and a surviving worker's sweeper closes it as "звонок прерван": that lead still counts, once.
Slots double-booked: two booked leads with the same date/time. The LAST line is the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cluster_harness import Cluster, Sink, pct, v2v_ms

SLOT_COLUMN = "Дата/время записи"


def _caller_env(cluster: Cluster) -> None:
    """The bench reads sessions from the same Redis as the workers (the demo caller needs them)."""
    for key, value in cluster.env().items():
        if key.startswith("SALESAGENT_"):
            os.environ[key] = value
    os.environ["SALESAGENT_NOTIFY_OUTBOX_BACKEND"] = "sqlite"
    os.environ.setdefault("SALESAGENT_DATA_DIR", str(cluster.tmp / "bench"))


async def _calls(cluster: Cluster, n: int, kill_one: bool, persona_name: str) -> tuple[list, dict]:
    from salesagent.config import get_settings
    from salesagent.demo.caller import SimulatedCaller
    from salesagent.demo.persona import load_persona
    from salesagent.demo.runner import voice_for
    from salesagent.services.factory import build_service

    _caller_env(cluster)
    get_settings.cache_clear()
    settings = get_settings()
    dialog = build_service(settings, leads=False)
    persona = load_persona(persona_name)
    voice = voice_for(persona, cluster.tmp / "voice")
    await voice.prerender(persona.all_lines())
    url = f"ws://127.0.0.1:{cluster.lb_port}/audiofork"
    # retry_s: a caller not answered says the line again after the agent's "Вы меня слышите?" (8 s)
    callers = [SimulatedCaller(persona, voice, dialog, url, f"cl-{cluster.prefix}-{i}", max_call_s=240,
                               retry_s=12) for i in range(n)]
    events: dict = {}

    async def chaos() -> None:
        await asyncio.sleep(20)  # mid-call: greeting answered, a few questions in
        cluster.sample()
        cluster.agents[0].popen.kill()
        events["killed"] = cluster.agents[0].name
        if len(cluster.agents) > 2:
            cluster.agents[1].popen.terminate()
            events["drained"] = cluster.agents[1].name

    async def sampler() -> None:
        while True:
            cluster.sample()
            await asyncio.sleep(1)

    async def one(i: int, c: SimulatedCaller):
        await asyncio.sleep(i * 1.0)
        return await c.run()

    tasks = [asyncio.create_task(sampler())]
    if kill_one:
        tasks.append(asyncio.create_task(chaos()))
    results = await asyncio.gather(*(one(i, c) for i, c in enumerate(callers)), return_exceptions=True)
    for t in tasks:
        t.cancel()
    if "drained" in events:
        proc = cluster.agents[1].popen
        events["drained_rc"] = await asyncio.to_thread(proc.wait, 60)
    return list(zip(callers, results, strict=True)), events


async def run(workers: int, calls: int, kill_one: bool, persona: str = "quick", wait_leads_s: float = 150) -> dict:
    from salesagent.demo.runner import AgentServer

    sink = Sink()
    cluster = Cluster(workers)
    async with AgentServer(sink.app()) as hook:
        try:
            await cluster.start(hook.url("/hook", "http"))
            cpu0 = sum(p.cpu for p in cluster.procs)
            t0 = time.monotonic()
            placed, events = await _calls(cluster, calls, kill_one, persona)
            wall = time.monotonic() - t0
            cluster.sample()
            cpu = sum(p.cpu for p in cluster.procs) - cpu0
            ids = [c.call_id for c, _ in placed]
            deadline = time.monotonic() + wait_leads_s
            while time.monotonic() < deadline and not all(sink.received[i] for i in ids):
                await asyncio.sleep(1)
            await asyncio.sleep(3)  # a late duplicate would show up here
        finally:
            await asyncio.to_thread(cluster.stop)
    return _summary(placed, events, sink, cpu, wall, ids, _workers_of(cluster, ids))


def _workers_of(cluster: Cluster, ids: list[str]) -> dict[str, str | None]:
    """The worker that closed each call (its report in the worker's data folder); None for a call
    on the SIGKILLed worker, which wrote nothing (a survivor's sweeper made its lead)."""
    found: dict[str, str | None] = dict.fromkeys(ids)
    for i, agent in enumerate(cluster.agents):
        for report in (cluster.tmp / f"w{i}" / "calls").glob("*/*/report.json"):
            if report.parent.name in found:
                found[report.parent.name] = agent.name
    return found


def _summary(placed, events, sink: Sink, cpu: float, wall: float, ids: list[str],
             workers: dict[str, str | None]) -> dict:
    status = {i: sink.leads.get(i, {}).get("columns", {}).get("Статус") for i in ids}
    survivors = [i for i in ids if workers[i] is not None and workers[i] != events.get("killed")]
    booked = [sink.leads[i] for i in ids if status[i] == "записан"]
    slots = [lead["columns"].get(SLOT_COLUMN) for lead in booked]
    v2v = [ms for c, r in placed if not isinstance(r, BaseException) for ms in v2v_ms(c)]
    return {
        "calls": len(ids), "events": events,
        "booked": len(booked),
        "statuses": status, "workers": workers,
        "callers": {c.call_id: (r.hung_up_by, r.duration_s) if not isinstance(r, BaseException) else repr(r)
                    for c, r in placed},
        "survivor_calls": len(survivors), "survivors_booked": sum(status[i] == "записан" for i in survivors),
        "once": sum(sink.received[i] == 1 for i in ids),
        "lost": sum(sink.received[i] == 0 for i in ids),
        "duplicated": sum(sink.received[i] > 1 for i in ids),
        "double_booked": len(slots) - len(set(slots)),
        "v2v_p50": pct(v2v, 0.5), "v2v_p95": pct(v2v, 0.95), "turns": len(v2v),
        "cpu_per_call_s": cpu / max(1, len(ids)), "wall_s": wall,
    }


def print_report(s: dict) -> None:
    print(f"chaos: {s['events']}")
    print("| call | worker | caller's end, call length s | lead status at the sink |")
    print("|---|---|---|---|")
    for call_id, status in s["statuses"].items():
        print(f"| {call_id} | {s['workers'].get(call_id) or 'killed (no report)'} | {s['callers'].get(call_id)} "
              f"| {status} |")
    print(f"calls on surviving workers (drained included): {s['survivor_calls']}, booked: {s['survivors_booked']}")
    print()
    print("| calls | booked | leads once | lost | duplicated | slots booked twice | turns | v2v p50 ms | "
          "v2v p95 ms | CPU s/call (all processes) | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {s['calls']} | {s['booked']} | {s['once']} | {s['lost']} | {s['duplicated']} | {s['double_booked']} "
          f"| {s['turns']} | {s['v2v_p50']:.0f} | {s['v2v_p95']:.0f} | {s['cpu_per_call_s']:.1f} | {s['wall_s']:.0f} |")
    print(f"leads: {s['once']} exactly once, {s['lost']} lost, {s['duplicated']} duplicated, "
          f"{s['double_booked']} slots double-booked")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--calls", type=int, default=6)
    ap.add_argument("--kill-one", action="store_true")
    ap.add_argument("--persona", default="quick")
    args = ap.parse_args()
    print_report(asyncio.run(run(args.workers, args.calls, args.kill_one, args.persona)))


if __name__ == "__main__":
    main()
