"""Fakes for the per-call voice engine (after LiveKit's tests/fake_stt.py, fake_vad.py, fake_tts.py).

Everything here is driven by the test in virtual time (``@pytest.mark.looptime``): no model, no
thread, no wall-clock sleep, so a turn-taking test of a whole call runs in milliseconds and
always the same way.

* :class:`FakeTranscriber` is VAD and ASR at once: the test says when the caller starts and stops
  talking and what the ASR makes of it (text, nothing, or never anything).
* :class:`FakeTTS` speaks 10 ms of a tone per character, in 200 ms chunks, after a set delay.
* :class:`FakeDialog` answers from a script and keeps what it was told and how the call ended.
* :class:`WireSink` is the telephone peer: it stamps every frame and every "clear" it receives.
* :class:`Line` puts them together around a real :class:`~salesagent.transport.Call` and
  :class:`~salesagent.transport.pacing.OutboundPump`.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from salesagent.dialog.session import Session
from salesagent.dialog.slots import CallStatus
from salesagent.pipeline.config import VoiceSettings
from salesagent.pipeline.voice_agent import VoiceCall, VoiceServices
from salesagent.speech.asr.streaming import Discarded, Final
from salesagent.speech.vad import SpeechEnded, SpeechStarted, VadEvent
from salesagent.transport.call import Call, PlaybackItem
from salesagent.transport.events import CallStarted
from salesagent.transport.pacing import OutboundPump

RATE = 8000
FRAME_S = 0.02


class FakeTranscriber:
    """Scripted VAD + ASR for one call; stream time is the inbound audio fed so far."""

    def __init__(self) -> None:
        self._fed_samples = 0
        self._pending: list[VadEvent] = []
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._speaking_since: float | None = None
        self.cancelled = False
        self.expected: list[tuple[str | None, int | None]] = []  # (prompt, endpoint) per question asked

    # -- the test's side ---------------------------------------------------------------------
    def start_speech(self) -> float:
        start = self.position_s
        self._speaking_since = start
        self._pending.append(SpeechStarted(start=start, detected_at=start, start_sample=int(start * 16000)))
        return start

    def end_speech(self) -> tuple[float, float]:
        assert self._speaking_since is not None, "end_speech without start_speech"
        start, end = self._speaking_since, self.position_s
        self._speaking_since = None
        self._pending.append(SpeechEnded(start=start, end=end, detected_at=end, start_sample=int(start * 16000),
                                         end_sample=int(end * 16000)))
        return start, end

    def final(self, start: float, end: float, text: str, confidence: float = 0.9) -> None:
        self._events.put_nowait(Final(text=text, start=round(start, 3), end=round(end, 3), confidence=confidence))

    def discard(self, start: float, end: float, reason: str = "empty") -> None:
        self._events.put_nowait(Discarded(round(start, 3), round(end, 3), reason))

    # -- the engine's side (pipeline.ports.Transcriber) -----------------------------------------
    @property
    def speaking(self) -> bool:
        return self._speaking_since is not None

    @property
    def position_s(self) -> float:
        return self._fed_samples / RATE

    def expect(self, prompt: str | None, min_silence_ms: int | None = None, complete: Any = None) -> None:
        self.expected.append((prompt, min_silence_ms))
        self.complete = complete

    def feed(self, pcm: bytes) -> list[VadEvent]:
        self._fed_samples += len(pcm) // 2
        events, self._pending = self._pending, []
        return events

    async def events(self) -> AsyncIterator[Any]:
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    def cancel(self) -> None:
        self.cancelled = True
        self._events.put_nowait(None)


class FakeTTS:
    """10 ms of audio per character (in whole 20 ms frames), in 200 ms chunks, the first after ``delay_s``."""

    def __init__(self, delay_s: float = 0.05) -> None:
        self.delay_s = delay_s
        self.said: list[str] = []

    @staticmethod
    def duration_s(text: str) -> float:
        return len(text) * 0.01

    @classmethod
    def tone(cls, text: str, sample_rate: int) -> np.ndarray:
        """The audio said for ``text``: a tone whose pitch depends on the text, so that two
        sentences never look alike on the wire."""
        frame = int(sample_rate * FRAME_S)  # whole wire frames: the pump pads a partial last frame
        samples = -(-int(cls.duration_s(text) * sample_rate) // frame) * frame
        pitch = 300 + sum(map(ord, text)) % 400
        return (np.sin(np.arange(samples) * 2 * np.pi * pitch / sample_rate) * 8000).astype("<i2")

    async def stream(self, text: str, sample_rate: int) -> AsyncIterator[bytes]:
        await asyncio.sleep(self.delay_s)
        self.said.append(text)
        tone = self.tone(text, sample_rate).tobytes()
        step = sample_rate // 5 * 2
        for off in range(0, len(tone), step):
            yield tone[off : off + step]


class _State(enum.StrEnum):
    TALKING = "TALKING"
    GOODBYE = "GOODBYE"


@dataclass
class _Reply:
    session_id: str
    reply: str
    state: Any  # _State or a real dialog State
    slots: dict[str, Any]
    done: bool
    latency_ms: float = 1.0


@dataclass
class FakeDialog:
    """Replies from ``script`` in order (the greeting first); a reply ending in '!' ends the call."""

    script: list[str]
    delay_s: float = 0.01
    heard: list[str] = field(default_factory=list)
    ended: list[CallStatus] = field(default_factory=list)
    done_status: CallStatus = CallStatus.BOOKED
    states: list[Any] | None = None  # the dialog state each reply leaves the call in (the question asked)

    async def handle(self, session_id: str, text: str, caller_id: str | None = None) -> _Reply:
        await asyncio.sleep(self.delay_s)
        self.heard.append(text)
        reply = self.script[min(len(self.heard) - 1, len(self.script) - 1)]
        done = reply.endswith("!")
        slots = {"status": self.done_status.value} if done else {}
        state = _State.GOODBYE if done else _State.TALKING
        if self.states:
            state = self.states[min(len(self.heard) - 1, len(self.states) - 1)]
        return _Reply(session_id, reply, state, slots, done)

    async def end_call(self, session_id: str, status: CallStatus = CallStatus.ABANDONED) -> Session:
        self.ended.append(status)
        now = datetime.now(UTC)
        session = Session(session_id=session_id, created_at=now, updated_at=now)
        session.slots.status = status
        return session


@dataclass
class WireSink:
    """The peer: every frame sent (loop time, item) and every clear."""

    echoes_marks: bool = False
    frames: list[tuple[float, PlaybackItem, bytes]] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)

    async def send_audio(self, pcm: bytes, item: PlaybackItem) -> None:
        self.frames.append((asyncio.get_running_loop().time(), item, pcm))

    async def send_clear(self) -> None:
        self.clears.append(asyncio.get_running_loop().time())

    async def send_mark(self, item: PlaybackItem) -> None:  # pragma: no cover - echoes_marks is False
        raise AssertionError("marks are not echoed on this wire")

    def audio_between(self, t0: float, t1: float) -> list[float]:
        return [t for t, _item, _pcm in self.frames if t0 <= t < t1]

    def heard_samples(self, rate: int = RATE) -> np.ndarray:
        """What the caller's ear got: frames play back to back from when they arrive; a clear
        drops every sample not played yet (a phone's jitter buffer)."""
        played: list[np.ndarray] = []
        queued: list[tuple[float, np.ndarray]] = []  # (play start, samples) not yet known heard
        play_end = float("-inf")
        clears = iter(sorted(self.clears))
        next_clear = next(clears, None)
        for t, _item, pcm in self.frames:
            while next_clear is not None and next_clear <= t:
                queued, play_end = _flush(queued, played, next_clear, rate), next_clear
                next_clear = next(clears, None)
            samples = np.frombuffer(pcm, dtype="<i2")
            start = max(t, play_end)
            queued.append((start, samples))
            play_end = start + len(samples) / rate
        while next_clear is not None:
            queued = _flush(queued, played, next_clear, rate)
            next_clear = next(clears, None)
        played.extend(samples for _start, samples in queued)
        return np.concatenate(played) if played else np.zeros(0, dtype="<i2")


def _flush(queued: list[tuple[float, np.ndarray]], played: list[np.ndarray], at: float,
           rate: int) -> list[tuple[float, np.ndarray]]:
    """Everything that started playing before ``at`` is heard up to ``at``; the rest is dropped."""
    for start, samples in queued:
        if start < at:
            played.append(samples[: round((at - start) * rate)])
    return []


class Line:
    """One call through the real Call core and outbound pump, with the fakes behind the engine."""

    def __init__(self, dialog: FakeDialog, *, tts: FakeTTS | None = None, **settings: Any) -> None:
        self.loop = loop = asyncio.get_running_loop()
        self.call = Call(CallStarted(call_id="fake-1", caller="+79160000000", sample_rate=RATE), transport="fake")
        self.sink = WireSink()
        self.asr = FakeTranscriber()
        self.dialog = dialog
        self.tts = tts or FakeTTS()
        defaults = {"record_calls": False, "save_reports": False, "silence_prompt_s": 8.0}
        self.services = VoiceServices(dialog=dialog, scheduler=None, tts=self.tts,
                                      settings=VoiceSettings(**{**defaults, **settings}),
                                      transcribers=lambda call_id, rate, partials: self.asr)
        self.engine = VoiceCall(self.call, self.services)
        self.t0 = loop.time()
        self._pump = asyncio.create_task(OutboundPump(self.call, self.sink).run())
        self._run = asyncio.create_task(self.engine.run())
        self._mic = asyncio.create_task(self._microphone())

    async def _microphone(self) -> None:
        """The caller's line: 20 ms frames of silence, so the engine feeds the (fake) VAD."""
        frame = b"\x00\x00" * int(RATE * FRAME_S)
        while self.call.stopped is None and not self.call.hangup_requested:
            self.call.push_audio(frame)
            await asyncio.sleep(FRAME_S)
        if self.call.hangup_requested:
            self.call.push_stopped("hangup", "agent")

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.t0

    async def wait(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def say(self, text: str | None, *, speak_s: float = 1.0, asr_s: float = 0.5) -> tuple[float, float]:
        """The caller talks for ``speak_s``; ``asr_s`` later the ASR gives ``text`` ("" or None:
        the transcriber discards the utterance)."""
        start = self.asr.start_speech()
        await asyncio.sleep(speak_s)
        start, end = self.asr.end_speech()
        asyncio.get_running_loop().call_later(asr_s, self._result, start, end, text)
        return start, end

    def _result(self, start: float, end: float, text: str | None) -> None:
        if text:
            self.asr.final(start, end, text)
        else:
            self.asr.discard(start, end)

    async def hang_up(self) -> None:
        self.call.push_stopped("hangup", "caller")
        await self.finished()

    async def finished(self, timeout_s: float = 600.0) -> None:
        async with asyncio.timeout(timeout_s):
            await self._run
        self._mic.cancel()
        self._pump.cancel()
        await asyncio.gather(self._mic, self._pump, return_exceptions=True)

    @property
    def transcript(self) -> list[Any]:
        return self.engine.report.transcript
