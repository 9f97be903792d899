"""A local cluster on 127.0.0.1, as separate processes: Redis, PostgreSQL, HAProxy, one ASR gateway,
N agent workers (``salesagent serve`` with ``SALESAGENT_ASR_ENGINE=remote``), a webhook receiver.

Why separate processes: the claims under test (a SIGKILLed worker loses no lead, a SIGTERMed one
finishes its calls, two workers never book one slot, each lead reaches the sink once) are about
processes sharing Redis and PostgreSQL, so nothing here shares memory with the workers. Used by
bench/bench_cluster.py and tests/cluster/test_cluster.py. Every process started is stopped by pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CLK = os.sysconf("SC_CLK_TCK")
HAPROXY_CFG = """global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 5s
    timeout tunnel 1h
    timeout client-fin 5s
    option http-server-close
frontend calls
    bind 127.0.0.1:{port}
    default_backend agents
backend agents
    balance leastconn
    option httpchk GET /ready
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
{servers}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid: int) -> float:
    try:
        parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / CLK


class Sink:
    """A webhook receiver counting every lead it is handed, by call id (duplicates included)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.leads: dict[str, dict] = {}

    def app(self):
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def hook(request):
            for lead in json.loads(await request.body())["leads"]:
                self.received[lead["call_id"]] += 1
                self.leads[lead["call_id"]] = lead
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    port: int
    cpu: float = 0.0

    def sample(self) -> None:
        if self.popen.poll() is None:
            self.cpu = max(self.cpu, cpu_s(self.popen.pid))


@dataclass
class Cluster:
    workers: int
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cluster-")))
    prefix: str = field(default_factory=lambda: f"cl{uuid.uuid4().hex[:8]}")
    procs: list[Proc] = field(default_factory=list)
    agents: list[Proc] = field(default_factory=list)
    lb_port: int = 0
    sink_url: str = ""

    def env(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, "SALESAGENT_SESSION_STORE": "redis", "SALESAGENT_REDIS_PREFIX": self.prefix,
               "SALESAGENT_SESSION_TTL_S": "40", "SALESAGENT_SESSION_SWEEP_INTERVAL_S": "3", "SALESAGENT_NOW": "2026-11-25T11:00:00+03:00",
               "SALESAGENT_NOTIFY_OUTBOX_BACKEND": "postgres",
               "SALESAGENT_NOTIFY_POSTGRES_DSN": "postgresql://127.0.0.1:5432/test",
               "SALESAGENT_NOTIFY_POSTGRES_TABLE": f"leads_{self.prefix}", "SALESAGENT_NOTIFY_SINK": "webhook",
               "SALESAGENT_NOTIFY_WEBHOOK_URL": self.sink_url, "SALESAGENT_NOTIFY_WEBHOOK_SECRET": "cluster-bench", "SALESAGENT_NOTIFY_POLL_INTERVAL_S": "0.5",
               "SALESAGENT_TELEPHONY_ENABLE_AUDIOSOCKET": "false", "SALESAGENT_DRAIN_TIMEOUT_S": "240",
               "SALESAGENT_LOG_LEVEL": "WARNING"}
        env.pop("SALESAGENT_API_TOKEN", None)
        return {**env, **extra}

    def _spawn(self, name: str, args: list[str], port: int, env: dict[str, str]) -> Proc:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        popen = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        proc = Proc(name, popen, port)
        self.procs.append(proc)
        return proc

    async def start(self, sink_url: str) -> None:
        self.sink_url = sink_url
        for script in ("ensure-redis.sh", "ensure-postgres.sh"):
            subprocess.run(["bash", f"scripts/{script}"], cwd=ROOT, check=True, capture_output=True)
        asr_port = free_port()
        asr = self._spawn("asr", [PY, "-m", "salesagent.cli.speech_asr", "--port", str(asr_port)], asr_port,
                          self.env())
        await wait_ready(asr)
        for i in range(self.workers):
            port = free_port()
            env = self.env(SALESAGENT_DATA_DIR=str(self.tmp / f"w{i}"), SALESAGENT_ASR_ENGINE="remote",
                           SALESAGENT_ASR_REMOTE_URL=f"ws://127.0.0.1:{asr_port}")
            self.agents.append(self._spawn(f"worker{i}", [PY, "-m", "salesagent.cli.voice", "serve", "--port",
                                                           str(port)], port, env))
        for agent in self.agents:
            await wait_ready(agent)
        self.lb_port = free_port()
        servers = "\n".join(f"    server {a.name} 127.0.0.1:{a.port} check" for a in self.agents)
        cfg = self.tmp / "haproxy.cfg"
        cfg.write_text(HAPROXY_CFG.format(port=self.lb_port, servers=servers))
        lb = self._spawn("haproxy", ["haproxy", "-db", "-f", str(cfg)], self.lb_port, os.environ.copy())
        await wait_port(lb)
        await asyncio.sleep(1.5)  # two health checks: every worker in rotation

    def sample(self) -> None:
        for p in self.procs:
            p.sample()

    def stop(self) -> None:
        for p in self.procs:
            if p.popen.poll() is None:
                p.popen.send_signal(signal.SIGINT if p.name.startswith("worker") else signal.SIGTERM)
        for p in self.procs:
            try:
                p.popen.wait(20)
            except subprocess.TimeoutExpired:
                p.popen.kill()
                p.popen.wait(5)
        with contextlib.suppress(Exception):
            subprocess.run(["psql", "-h", "127.0.0.1", "-d", "test", "-qc",
                            f"DROP TABLE IF EXISTS leads_{self.prefix}"], capture_output=True, timeout=10)
        with contextlib.suppress(Exception):
            import redis

            r = redis.Redis.from_url("redis://127.0.0.1:6379/0")
            for key in r.scan_iter(f"{self.prefix}*"):
                r.delete(key)


async def wait_ready(proc: Proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode} during start")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{proc.port}/ready", timeout=1)).status_code == 200:
                    return
            await asyncio.sleep(0.3)
    raise RuntimeError(f"{proc.name} not ready in {timeout:.0f} s")


async def wait_port(proc: Proc, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", proc.port), timeout=0.5).close()
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{proc.name} does not listen on {proc.port}")


def v2v_ms(caller) -> list[float]:
    """Caller-side voice-to-voice: end of each caller line to the agent's next audio."""
    fork = caller.fork
    if fork is None:
        return []
    audio = [r.t for r in fork.received if r.kind in ("audio", "playAudio")]
    out = []
    for line in caller.result.lines:
        end = line.at + line.duration_s
        nxt = next((t for t in audio if t > end), None)
        if nxt is not None and nxt - end < 15:
            out.append((nxt - end) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


__all__ = ["Cluster", "Sink", "pct", "statistics", "v2v_ms"]
