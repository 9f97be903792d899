"""A simulated caller whose line dies while it speaks (the agent's worker SIGKILLed mid-call in
bench/bench_cluster.py) stops speaking at once: it waited for its words to drain until max_call_s."""

from __future__ import annotations

import asyncio
import time

import websockets

from salesagent.demo.caller import SimulatedCaller
from salesagent.demo.persona import load_persona
from salesagent.transport.audiofork_client import AudioForkClient


async def test_a_line_that_dies_mid_sentence_ends_the_sentence() -> None:
    async def die_after_half_a_second(ws) -> None:
        await ws.recv()  # the metadata
        await asyncio.sleep(0.5)
        ws.transport.abort()  # a killed worker: no close frame

    async with websockets.serve(die_after_half_a_second, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        caller = SimulatedCaller(load_persona("quick"), voice=None, dialog=None, url="", call_id="dies")  # type: ignore[arg-type]
        async with AudioForkClient(f"ws://127.0.0.1:{port}", metadata={"uuid": "dies"}) as fork:
            caller.fork = fork
            pump = asyncio.create_task(caller._pump(fork))
            started = time.monotonic()
            await asyncio.wait_for(caller.say(b"\x01\x00" * 8000 * 20), 10)  # 20 s of speech
            assert time.monotonic() - started < 3
            pump.cancel()
