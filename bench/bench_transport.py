"""Telephony edge under load: pacing accuracy, barge-in latency and CPU per call.

Starts the real server (uvicorn + mod_audio_fork router) on 127.0.0.1 with an agent that speaks
3 s per call, then N simulated FreeSWITCH callers (``AudioForkClient``) stream audio at real time,
barge in with DTMF after 1 s and hang up. Prints a table; run ``python bench/bench_transport.py
--calls 1 10 50``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time

import numpy as np
import uvicorn

from salesagent.transport.audiofork_client import AudioForkClient
from salesagent.transport.call import Call
from salesagent.transport.config import TelephonySettings
from salesagent.transport.events import AudioIn, Dtmf
from salesagent.transport.server import create_app

SPEECH = (np.sin(2 * np.pi * 300 * np.arange(24000) / 8000) * 8000).astype("<i2").tobytes()


class BenchAgent:
    async def handle(self, call: Call) -> None:
        call.enqueue(SPEECH, mark="speech")
        frames = 0
        async for event in call:
            if isinstance(event, AudioIn):
                frames += 1
            elif isinstance(event, Dtmf):
                call.clear()


async def one_call(url: str, i: int) -> dict[str, float]:
    async with AudioForkClient(url, metadata={"uuid": f"bench-{i}"}) as fork:
        caller = asyncio.create_task(fork.silence(1.6))
        await fork.wait_for("audio", count=50, timeout=30)  # ~1 s of agent speech heard
        sent_dtmf = time.monotonic()
        await fork.dtmf("*")
        kill = await fork.wait_for("killAudio", timeout=10)
        await caller
        await fork.stop(timeout=10)
    audio = [r for r in fork.received if r.kind == "audio" and r.t < sent_dtmf]
    gaps = np.diff([r.t for r in audio[3:]]) * 1000  # after the initial lead burst
    return {
        "clear_ms": (kill.t - sent_dtmf) * 1000,
        "after_kill": sum(1 for r in fork.received if r.kind == "audio" and r.t > kill.t),
        "gap_p50": float(np.percentile(gaps, 50)),
        "gap_p99": float(np.percentile(gaps, 99)),
        "gap_max": float(gaps.max()),
    }


async def run(calls: int) -> dict[str, float]:
    settings = TelephonySettings(enable_audiosocket=False)
    server = uvicorn.Server(uvicorn.Config(create_app(BenchAgent(), settings), host="127.0.0.1", port=0,
                                           log_config=None, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    url = f"ws://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/audiofork"
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.monotonic()
    results = await asyncio.gather(*(one_call(url, i) for i in range(calls)))
    wall = time.monotonic() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    server.should_exit = True
    await task
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "calls": calls,
        "clear_ms_p50": statistics.median(r["clear_ms"] for r in results),
        "clear_ms_max": max(r["clear_ms"] for r in results),
        "frames_after_kill": max(r["after_kill"] for r in results),
        "gap_ms_p50": statistics.median(r["gap_p50"] for r in results),
        "gap_ms_p99": max(r["gap_p99"] for r in results),
        "gap_ms_max": max(r["gap_max"] for r in results),
        "cpu_pct_per_call": 100 * cpu / wall / calls,  # client and server share this process
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()
    rows = [asyncio.run(run(n)) for n in args.calls]
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(f"{row[k]:.1f}" if isinstance(row[k], float) else str(row[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
