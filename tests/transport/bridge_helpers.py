"""Helpers shared by the bridge tests: the known test tone and a recording CallHandler."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from salesagent.transport.call import Call
from salesagent.transport.events import AudioIn, CallEvent, CallStarted, CallStopped

FIXTURES = Path(__file__).parent / "fixtures"


def tone(freq: float, rate: int, n: int, amplitude: float = 8000.0) -> np.ndarray:
    """The same signal as fixtures/build_fixtures.py writes."""
    return np.round(amplitude * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype("<i2")


@dataclass
class RecordedCall:
    call: Call
    events: list[CallEvent] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def audio(self) -> bytes:
        return b"".join(e.pcm for e in self.events if isinstance(e, AudioIn))

    @property
    def stopped(self) -> CallStopped | None:
        return next((e for e in self.events if isinstance(e, CallStopped)), None)

    async def wait(self, predicate: Callable[[RecordedCall], object], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met; events: {[type(e).__name__ for e in self.events][-5:]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)

    async def wait_audio_s(self, seconds: float, timeout: float = 10.0) -> None:
        rate = self.call.sample_rate
        await self.wait(lambda r: len(r.audio) / 2 / rate >= seconds, timeout)


Script = Callable[[Call, RecordedCall], Awaitable[None]]


class Recorder:
    """Records every event of every call; an optional script acts as the agent for each call."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script
        self.calls: dict[str, RecordedCall] = {}
        self._new = asyncio.Event()
        self.finished: set[str] = set()

    async def handle(self, call: Call) -> None:
        rec = RecordedCall(call)
        self.calls[call.call_id] = rec
        self._new.set()
        task = asyncio.create_task(self.script(call, rec)) if self.script else None
        try:
            async for event in call:
                rec.events.append(event)
                rec.changed.set()
        finally:
            if task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 2)
            self.finished.add(call.call_id)

    async def call(self, call_id: str | None = None, timeout: float = 10.0) -> RecordedCall:
        deadline = time.monotonic() + timeout
        while True:
            if call_id is None and self.calls:
                return next(iter(self.calls.values()))
            if call_id in self.calls:
                return self.calls[call_id]
            if time.monotonic() > deadline:
                raise TimeoutError(f"call {call_id!r} never started; have {list(self.calls)}")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), 0.2)


def started(rec: RecordedCall) -> CallStarted:
    first = rec.events[0]
    assert isinstance(first, CallStarted)
    return first


