"""SIGTERM drains a real ``salesagent serve`` process with a real call in progress: /ready turns 503
at once (HAProxy takes the worker out), a new call is refused, the live call goes on to its
booking, then the process exits 0 by itself. Its lead is already in the PostgreSQL outbox.
"""

from __future__ import annotations

import asyncio
import subprocess

import httpx
import pytest
import websockets
from bench.bench_cluster import _caller_env
from bench.cluster_harness import Cluster, Sink


@pytest.mark.timeout(300)
async def test_sigterm_finishes_the_live_call_refuses_new_ones_and_exits() -> None:
    from salesagent.config import get_settings
    from salesagent.demo.caller import SimulatedCaller
    from salesagent.demo.persona import load_persona
    from salesagent.demo.runner import AgentServer, voice_for
    from salesagent.services.factory import build_service

    sink, cluster = Sink(), Cluster(1)
    async with AgentServer(sink.app()) as hook:
        try:
            await cluster.start(hook.url("/hook", "http"))
            worker = cluster.agents[0]
            _caller_env(cluster)
            get_settings.cache_clear()
            persona = load_persona("quick")
            voice = voice_for(persona, cluster.tmp / "voice")
            await voice.prerender(persona.all_lines())
            call_id = f"drain-{cluster.prefix}"
            caller = SimulatedCaller(persona, voice, build_service(get_settings(), leads=False),
                                     f"ws://127.0.0.1:{worker.port}/audiofork", call_id, max_call_s=200, retry_s=30)
            call = asyncio.create_task(caller.run())
            await asyncio.sleep(10)
            worker.popen.terminate()
            await asyncio.sleep(1)
            async with httpx.AsyncClient() as client:
                ready = await client.get(f"http://127.0.0.1:{worker.port}/ready")
            assert ready.status_code == 503 and ready.json()["reason"] == "draining"
            with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
                async with websockets.connect(f"ws://127.0.0.1:{worker.port}/audiofork"):
                    pass
            assert refused.value.response.status_code == 403
            assert worker.popen.poll() is None, "the worker must wait for its live call"
            result = await call
            assert result.hung_up_by in ("agent", "caller"), result
            rc = await asyncio.to_thread(worker.popen.wait, 30)
            assert rc == 0
            rows = subprocess.run(["psql", "-h", "127.0.0.1", "-d", "test", "-Atc",
                                   f"SELECT count(*) FROM leads_{cluster.prefix} WHERE call_id = '{call_id}'"],
                                  capture_output=True, text=True, check=True).stdout.strip()
            assert rows == "1" or sink.received[call_id] == 1, (rows, sink.received)
        finally:
            await asyncio.to_thread(cluster.stop)
