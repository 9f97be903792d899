"""A simulated caller on the real mod_audio_fork WebSocket path.

It behaves like FreeSWITCH plus a person: audio frames leave every 20 ms for the whole call
(silence when the person is quiet, as the module does), and the person speaks a persona line
when it is their turn:

* ``patient``: after the agent has asked something new (a new agent turn in the session) and its
  audio has stopped for ``pause_s``;
* ``impatient``: ``barge_in_after_s`` after the agent's new reply started playing: talking over
  the agent, which exercises barge-in on every turn.

The agent's state comes from the session through ``DialogService`` (the persona's script sheet;
see ``persona.py``). Nothing of the agent is mocked: this is the same socket FreeSWITCH would use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from salesagent.demo.persona import Persona
from salesagent.demo.voices import CallerVoice
from salesagent.dialog.service import DialogService
from salesagent.dialog.session import Session
from salesagent.transport.audiofork_client import AudioForkClient

log = logging.getLogger(__name__)


@dataclass
class SaidLine:
    state: str
    text: str
    attempt: int
    at: float  # monotonic time the line started
    duration_s: float


@dataclass
class CallerResult:
    call_id: str
    lines: list[SaidLine] = field(default_factory=list)
    kill_audio: int = 0
    agent_audio_s: float = 0.0
    close_code: int | None = None
    hung_up_by: str = "agent"  # agent | caller | timeout
    duration_s: float = 0.0


class SimulatedCaller:
    def __init__(
        self,
        persona: Persona,
        voice: CallerVoice,
        dialog: DialogService,
        url: str,
        call_id: str,
        *,
        sample_rate: int = 8000,
        pause_s: float = 0.8,
        retry_s: float = 20.0,
        max_call_s: float = 600.0,
        on_line: Callable[[str, SaidLine], None] | None = None,
    ) -> None:
        self.persona = persona
        self.voice = voice
        self.dialog = dialog
        self.url = url
        self.call_id = call_id
        self.rate = sample_rate
        self.pause_s = pause_s
        self.retry_s = retry_s
        self.max_call_s = max_call_s
        self.on_line = on_line
        self.frame_bytes = sample_rate // 50 * 2
        self._out = bytearray()
        self._drained = asyncio.Event()
        self._drained.set()
        self.result = CallerResult(call_id)
        self.fork: AudioForkClient | None = None

    # -- the line ----------------------------------------------------------------------------------
    async def _pump(self, fork: AudioForkClient) -> None:
        """20 ms frames on an absolute clock for the whole call: speech when queued, else silence.

        When the line goes dead (the agent hung up, or its worker was killed) a line being said is
        over: ``say`` returns, or the caller would wait for its words to drain until max_call_s."""
        silence = b"\x00" * self.frame_bytes
        start = time.monotonic()
        n = 0
        try:
            with contextlib.suppress(Exception):  # the socket is closed
                while True:
                    delay = start + n * 0.02 - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if self._out:
                        frame = bytes(self._out[: self.frame_bytes]).ljust(self.frame_bytes, b"\x00")
                        del self._out[: self.frame_bytes]
                        if not self._out:
                            self._drained.set()
                    else:
                        frame = silence
                    await fork.send_raw(frame)
                    n += 1
        finally:
            self._out.clear()
            self._drained.set()

    async def say(self, pcm: bytes) -> None:
        self._drained.clear()
        self._out += pcm
        await self._drained.wait()

    # -- listening ---------------------------------------------------------------------------------
    def _closed(self) -> bool:
        return self.fork is None or (self.fork._reader is not None and self.fork._reader.done())

    def _last_agent_audio(self) -> float | None:
        assert self.fork is not None
        return next((r.t for r in reversed(self.fork.received) if r.kind in ("audio", "playAudio")), None)

    async def _session(self) -> Session | None:
        with contextlib.suppress(Exception):
            return await asyncio.to_thread(self.dialog.store.get, self.call_id)
        return None

    async def _new_agent_turn(self, after: int, timeout: float) -> Session | None:
        """The session once it holds an agent turn at history index >= ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._closed():
            session = await self._session()
            if session is not None and any(t.role == "agent" for t in session.history[after:]):
                return session
            await asyncio.sleep(0.15)
        return None

    async def _agent_audio_after(self, t: float, timeout: float = 30.0) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._closed():
            assert self.fork is not None
            first = next((r.t for r in self.fork.received if r.kind in ("audio", "playAudio") and r.t > t), None)
            if first is not None:
                return first
            await asyncio.sleep(0.05)
        return None

    async def _agent_quiet(self, pause_s: float, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._closed():
            last = self._last_agent_audio()
            if last is not None and time.monotonic() - last >= pause_s:
                return
            await asyncio.sleep(0.05)

    # -- the conversation --------------------------------------------------------------------------
    async def run(self) -> CallerResult:
        started = time.monotonic()
        metadata = {"uuid": self.call_id, "caller": self.persona.caller_id, "sample_rate": self.rate,
                    "channels": 1}
        async with AudioForkClient(self.url, metadata=metadata, sample_rate=self.rate) as fork:
            self.fork = fork
            pump = asyncio.create_task(self._pump(fork))
            try:
                async with asyncio.timeout(self.max_call_s):
                    await self._converse()
            except TimeoutError:
                self.result.hung_up_by = "timeout"
            finally:
                if not self._closed():
                    with contextlib.suppress(Exception):
                        await fork.stop(timeout=10)
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
        self.result.kill_audio = sum(1 for r in fork.received if r.kind == "killAudio")
        self.result.agent_audio_s = round(len(fork.agent_audio()) / 2 / self.rate, 2)
        self.result.close_code = fork.close_code
        self.result.duration_s = round(time.monotonic() - started, 2)
        return self.result

    async def _converse(self) -> None:
        attempts: Counter[str] = Counter()
        seen = 0  # history length when we last spoke: the agent's answer comes after it
        spoke_at = 0.0
        while not self._closed():
            session = await self._new_agent_turn(seen, self.retry_s)
            if self._closed():
                return
            if session is None:  # the agent did not take our line (misheard as nothing): say it again
                current = await self._session()
                if current is None:
                    continue
                state = current.state.value
            else:
                if session.done:
                    await self._at_end(spoke_at)
                    return
                state = session.state.value
                seen = len(session.history)
                started = await self._agent_audio_after(spoke_at)
                if started is None:
                    continue
                if self.persona.style == "impatient":
                    await asyncio.sleep(max(0.0, started + self.persona.barge_in_after_s - time.monotonic()))
                else:
                    await self._agent_quiet(self.pause_s)
                if self._closed():
                    return
                latest = await self._session()  # the agent may have moved on while we listened
                if latest is not None and latest.done:
                    await self._at_end(spoke_at)
                    return
                if latest is not None and len(latest.history) > seen:
                    seen = len(latest.history)
                    state = latest.state.value
            text = self.persona.line(state, attempts[state])
            heard = await self._session()
            correction = self.persona.correction_for(state, heard.slots.phone if heard else None,
                                                     attempts["phone-correction"])
            if correction is not None:
                text = correction
                attempts["phone-correction"] += 1
            line = SaidLine(state, text, attempts[state], time.monotonic(), 0.0)
            attempts[state] += 1
            pcm = await self.voice.get(text)
            line.duration_s = round(len(pcm) / 2 / self.rate, 2)
            self.result.lines.append(line)
            if self.on_line is not None:
                self.on_line(self.call_id, line)
            await self.say(pcm)
            spoke_at = time.monotonic()

    async def _at_end(self, spoke_at: float) -> None:
        """The dialog is over: hang up ourselves once the farewell has started, or let the agent."""
        if self.persona.hangup_when_done:
            await self._agent_audio_after(spoke_at, timeout=15)
            await asyncio.sleep(1.0)
            self.result.hung_up_by = "caller"
            assert self.fork is not None
            with contextlib.suppress(Exception):
                await self.fork.stop(timeout=10)
            return
        assert self.fork is not None
        with contextlib.suppress(Exception):
            await self.fork.wait_closed(timeout=180)
