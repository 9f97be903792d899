"""Run whole simulated calls against the real agent served in-process (demo, tests, load bench).

:class:`AgentServer` serves :func:`~salesagent.services.app.create_voice_app` with uvicorn on a
free port inside the current event loop; :func:`run_calls` points N :class:`SimulatedCaller` at
its ``/audiofork`` endpoint at once and waits until the agent has closed each call (report and
recording saved, lead in the outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from salesagent.demo.caller import CallerResult, SaidLine, SimulatedCaller
from salesagent.demo.persona import Persona
from salesagent.demo.voices import CallerVoice
from salesagent.services.app import AppParts, VoiceStack, create_voice_app
from salesagent.transport.config import TelephonySettings


class CallHub:
    """The agent's :class:`CallObserver`: keeps each call's events, wakes waiters, forwards them."""

    def __init__(self, forward: Callable[[str, str, dict[str, Any]], None] | None = None) -> None:
        self.events: dict[str, list[tuple[float, str, dict[str, Any]]]] = {}
        self.ended: dict[str, dict[str, Any]] = {}
        self._changed = asyncio.Event()
        self.forward = forward

    def on_event(self, call_id: str, kind: str, data: dict[str, Any]) -> None:
        self.events.setdefault(call_id, []).append((time.monotonic(), kind, data))
        if kind == "ended":
            self.ended[call_id] = data
        self._changed.set()
        if self.forward is not None:
            self.forward(call_id, kind, data)

    async def wait_ended(self, call_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while call_id not in self.ended:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"call {call_id} did not end within {timeout} s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return self.ended[call_id]


class AgentServer:
    """``async with AgentServer(app) as server: server.url('/audiofork')`` on a free local port."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def url(self, path: str, scheme: str = "ws") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"

    async def __aenter__(self) -> AgentServer:
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and without it Nagle
        # holds a small write (killAudio) until the peer's next packet (~20 ms) or its delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_config=None, lifespan="on", ws_max_size=2**22)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the start-up error
                raise RuntimeError("agent server stopped during start-up")
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 15)


@dataclass
class CallOutcome:
    call_id: str
    persona: str
    caller: CallerResult
    ended: dict[str, Any] = field(default_factory=dict)

    @property
    def report(self) -> dict[str, Any]:
        return self.ended.get("report", {})

    @property
    def status(self) -> str | None:
        return self.ended.get("status")


def voice_for(persona: Persona, cache_dir, pitch_cents: int | None = None, tempo: float | None = None) -> CallerVoice:
    return CallerVoice(
        cache_dir,
        pitch_cents if pitch_cents is not None else persona.voice.pitch_cents,
        tempo if tempo is not None else persona.voice.tempo,
        voice=persona.voice.name,
    )


async def run_calls(
    stack: VoiceStack,
    personas: list[Persona],
    *,
    voice_cache,
    hub: CallHub | None = None,
    telephony: TelephonySettings | None = None,
    on_line: Callable[[str, SaidLine], None] | None = None,
    pitch_cents: int | None = None,
    tempo: float | None = None,
    max_call_s: float = 600.0,
    stagger_s: float = 0.0,
) -> list[CallOutcome]:
    """One simulated call per persona, all at once, against one in-process agent."""
    hub = hub or CallHub()
    telephony = telephony or TelephonySettings(enable_audiosocket=False)
    app = create_voice_app(
        stack,
        telephony=telephony,
        parts=AppParts(dialog_api=False, asr_gateway=False, tts_gateway=False, lead_worker=False),
        observer=hub,
    )
    voices = [voice_for(p, voice_cache, pitch_cents, tempo) for p in personas]
    # Render every line once before the calls start, so the first turns are not slowed by festival.
    for voice, persona in zip(voices, personas, strict=True):
        await voice.prerender(persona.all_lines())
    outcomes: list[CallOutcome] = []
    async with AgentServer(app) as server:

        async def one(i: int, persona: Persona, voice: CallerVoice) -> CallOutcome:
            await asyncio.sleep(i * stagger_s)
            call_id = f"demo-{persona.name}-{uuid.uuid4().hex[:8]}"
            caller = SimulatedCaller(persona, voice, stack.dialog, server.url("/audiofork"), call_id,
                                     max_call_s=max_call_s, on_line=on_line,
                                     retry_s=stack.voice.silence_prompt_s + 10)
            result = await caller.run()
            ended = await hub.wait_ended(call_id, timeout=30)
            return CallOutcome(call_id, persona.name, result, ended)

        outcomes = await asyncio.gather(*(one(i, p, v) for i, (p, v) in enumerate(zip(personas, voices,
                                                                                         strict=True))))
    return list(outcomes)


async def deliver_leads(stack: VoiceStack) -> int:
    """Run the lead DeliveryWorker until the outbox has nothing due (the demo's sheet gets its row)."""
    from salesagent.notify import DeliveryWorker, NotifySettings, build_sink

    outbox = getattr(stack.dialog.leads, "outbox", None)
    if outbox is None:
        return 0
    notify = NotifySettings()
    worker = DeliveryWorker.from_settings(outbox, build_sink(notify), notify)
    delivered = 0
    for _ in range(20):
        result = await worker.drain_once()
        delivered += result.delivered + result.already_there
        if result.claimed == 0:
            break
    return delivered
