"""The phone agent: one :class:`VoiceAgent` handles every call a bridge hands it.

Per call, :class:`VoiceCall` wires small parts together (see docs/voice-pipeline.md)::

    AudioIn ─► Transcriber ──VAD──► TurnTaking (barge-in?) ──► AgentSpeaker.pause / resume
                  │   └──Final / Discarded──► UserTurnDetector (endpointing, deadlines)
                  │                               └── UserTurn ──► agent turn (one task):
                  │                                                 dialog ─► SpeechHandle ─► Call queue
    SilenceWatchdog: armed only while the call is idle          (interrupted by the next real turn)
    CallEvents ─► report · latency · recorder · metrics · live view

* A possible barge-in pauses the wire at the VAD's speech start; a backchannel resumes from the
  first unheard sample, a real turn interrupts the rest (recorded as not said).
* The greeting, every reply, the silence prompt and the goodbye are agent turns: one cancellable
  task each, so a caller who goes on talking cancels a reply not yet heard.
* Whatever ends the call: ``DialogService.end_call`` (the lead is kept), report and recording saved.
The inbound stream is the caller's channel only (bridges drop the agent leg), so the agent never
hears itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from salesagent.dialog.slots import CallStatus
from salesagent.pipeline import metrics
from salesagent.pipeline.call_records import close_call
from salesagent.pipeline.config import VoiceSettings
from salesagent.pipeline.latency import TurnTimeline
from salesagent.pipeline.observers import (
    CallEvents,
    LatencyObserver,
    LiveObserver,
    MetricsObserver,
    RecorderObserver,
    ReportObserver,
)
from salesagent.pipeline.ports import (
    AnswerCheck,
    CallObserver,
    DialogPort,
    RecordSink,
    SpeechSynthesizer,
    Transcriber,
    TranscriberFactory,
)
from salesagent.pipeline.recorder import StereoRecorder
from salesagent.pipeline.report import CallReport
from salesagent.pipeline.speaker import AgentSpeaker
from salesagent.pipeline.turns import Decision, InterruptionOptions, TurnTaking
from salesagent.pipeline.user_turn import TurnDeadlines, UserTurn, UserTurnDetector, build_endpointing, utterance_key
from salesagent.pipeline.watchdog import SilenceWatchdog
from salesagent.speech.asr.prompt import QuestionPrompts
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.streaming import Discarded, Final, Partial, StreamingTranscriber
from salesagent.speech.config import AsrSettings, VadSettings
from salesagent.speech.vad import SpeechEnded, SpeechStarted
from salesagent.transport.call import Call
from salesagent.transport.events import AudioIn, CallStopped, Dtmf

__all__ = ["CallObserver", "RecordSink", "VoiceAgent", "VoiceCall", "VoiceServices"]

log = logging.getLogger(__name__)


@dataclass
class VoiceServices:
    """What all calls of a process share: the dialog, ONE ASR scheduler, the voice, the records."""

    dialog: DialogPort
    scheduler: DecodeScheduler | None
    tts: SpeechSynthesizer
    settings: VoiceSettings = field(default_factory=VoiceSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    vad: VadSettings = field(default_factory=VadSettings)
    prompt: str | None = None
    prompts: QuestionPrompts | None = None  # the prompt follows the question just asked
    answers: AnswerCheck | None = None  # an answer already complete ends the caller's turn sooner
    records: RecordSink | None = None
    observer: CallObserver | None = None
    transcribers: TranscriberFactory | None = None  # tests and remote ASR; default: Whisper on `scheduler`

    def transcriber(self, call_id: str, sample_rate: int, partials: bool) -> Transcriber:
        if self.transcribers is not None:
            return self.transcribers(call_id, sample_rate, partials)
        if self.scheduler is None:
            raise ValueError("VoiceServices needs a DecodeScheduler or a transcriber factory")
        return StreamingTranscriber(self.scheduler, sample_rate=sample_rate, asr=self.asr, vad=self.vad,
                                    prompt=self.prompt, stream_id=f"call-{call_id}", partials=partials)


class VoiceAgent:
    """The :class:`~salesagent.transport.CallHandler` of the product."""

    def __init__(self, services: VoiceServices) -> None:
        self.services = services

    async def handle(self, call: Call) -> None:
        await VoiceCall(call, self.services).run()


class VoiceCall:
    """One call. Lives on the event loop; the dialog and the decodes run in threads."""

    def __init__(self, call: Call, services: VoiceServices) -> None:
        self.call, self.s, self.cfg = call, services, services.settings
        self.sid = call.call_id
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.ctx = {"call_id": call.call_id, "session_id": call.call_id}
        self.report = CallReport(call.call_id, call.transport, call.caller, datetime.now(UTC))
        self.events = CallEvents(self.sid, [])
        self.latency = LatencyObserver(self.events, self.ctx)
        self.recorder = StereoRecorder(call.out_rate, self.t0) if self.cfg.record_calls else None
        self._attach_observers()
        wants_partials = bool(getattr(services.observer, "wants_partials", False))
        self.transcriber = services.transcriber(self.sid, call.sample_rate, wants_partials)
        self.speaker = AgentSpeaker(call, services.tts, self.cfg.tts_sample_rate, self.events.emit)
        self.turns = TurnTaking(InterruptionOptions.from_settings(self.cfg))
        self.detector = UserTurnDetector(build_endpointing(self.cfg.endpointing, self.cfg.endpointing_delay_ms / 1000),
                                         TurnDeadlines(self.cfg.final_timeout_s, self.cfg.max_turn_hold_s))
        self.watchdog = SilenceWatchdog(self.cfg.silence_prompt_s, self.cfg.silence_prompts,
                                        self._silence_prompt, self._give_up)
        self.frames: deque[tuple[float, float]] = deque(maxlen=1500)  # (stream end s, arrival loop time)
        self.speech_ends: dict[float, float] = {}  # utterance -> loop time its last voiced frame arrived
        self.endpoints: dict[float, float] = {}  # utterance -> loop time of SpeechEnded
        self.agent_task: asyncio.Task[None] | None = None
        self.dialog_task: asyncio.Task[Any] | None = None
        self.done = False  # the dialog finished or we gave up: hang up after the last reply
        self.status: CallStatus | None = None
        self.turn_no = 0
        self._turn_timer: asyncio.TimerHandle | None = None

    def _attach_observers(self) -> None:
        observers: list[Any] = [ReportObserver(self.report, self.t0, self.loop.time), self.latency, MetricsObserver()]
        if self.recorder is not None:
            observers.append(RecorderObserver(self.recorder))
        if self.s.observer is not None:
            observers.append(LiveObserver(self.sid, self.s.observer))
        self.events.observers.extend(observers)

    # -- run ---------------------------------------------------------------------------------------
    async def run(self) -> None:
        metrics.ACTIVE_CALLS.inc()
        asr = asyncio.create_task(self._asr_events(), name=f"asr-{self.sid}")
        try:
            self._start_agent(self._reply(""), "greeting")
            async with asyncio.timeout(self.cfg.max_call_s):
                async for event in self.call:
                    if isinstance(event, AudioIn):
                        self._audio(event)
                    elif isinstance(event, Dtmf):
                        log.info("DTMF", extra={"context": {**self.ctx, "digit": event.digit}})
                    elif isinstance(event, CallStopped):
                        break
        except TimeoutError:
            log.warning("call exceeded max_call_s; hanging up", extra={"context": self.ctx})
        finally:
            await self._shutdown(asr)
            metrics.ACTIVE_CALLS.dec()
            await close_call(self)

    async def _shutdown(self, asr: asyncio.Task[None]) -> None:
        self.watchdog.close()
        if self._turn_timer is not None:
            self._turn_timer.cancel()
        self.transcriber.cancel()
        tasks = [asr, *([self.agent_task] if self.agent_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.speaker.aclose()
        if self.dialog_task is not None:  # a step under way finishes before the call is closed
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.cfg.dialog_drain_s):
                    await asyncio.gather(self.dialog_task, return_exceptions=True)

    # -- caller audio and recognition ------------------------------------------------------------
    def _audio(self, event: AudioIn) -> None:
        now = self.loop.time()
        self.frames.append((event.t + event.duration_s, now))
        self.events.emit("caller_audio", pcm=event.pcm, t=event.t, rate=event.sample_rate)
        try:
            vad_events = self.transcriber.feed(event.pcm)
        except Exception as exc:  # a malformed frame must not end the call's recognition
            self.events.emit("error", component="asr", message=f"asr: {exc!r}")
            log.warning("inbound frame rejected by ASR", extra={"context": {**self.ctx, "error": str(exc)}})
            return
        for ev in vad_events:
            if isinstance(ev, SpeechStarted):
                self._speech_started(ev.start, now)
            elif isinstance(ev, SpeechEnded):
                self._speech_ended(ev.start, ev.end, now)
        position = self.transcriber.position_s
        if not self.transcriber.speaking:
            return
        if self.turns.speech_continues(position, self._agent_has_floor()) is Decision.INTERRUPT:
            self._barge_in(position)

    def _speech_started(self, start: float, now: float) -> None:
        self.watchdog.activity()
        self.detector.speech_started(now, start)
        if self.turns.speech_started(start, self._agent_has_floor()) is Decision.INTERRUPT:
            self._barge_in(start)
        self._after_input()

    def _speech_ended(self, start: float, end: float, now: float) -> None:
        key = utterance_key(start)
        self.endpoints[key] = now
        self.speech_ends[key] = self._arrival_of(end)
        self.detector.speech_ended(now, start)
        if self.turns.speech_ended(start, end) is Decision.BACKCHANNEL:
            self.detector.resolved_without_words(now, start)
            self._backchannel("short")
        self._after_input()

    def _arrival_of(self, stream_s: float) -> float:
        """Loop time the inbound frame holding stream second ``stream_s`` arrived."""
        for end, arrived in self.frames:
            if end >= stream_s:
                return arrived
        return self.frames[-1][1] if self.frames else self.loop.time()

    async def _asr_events(self) -> None:
        async for event in self.transcriber.events():
            try:
                self._recognised(event)
            except Exception:  # one bad result must not leave the rest of the call deaf
                log.exception("ASR event failed", extra={"context": {**self.ctx, "event": type(event).__name__}})

    def _recognised(self, event: object) -> None:
        now = self.loop.time()
        if isinstance(event, Final):
            self._final(event, now)
        elif isinstance(event, Discarded):
            self.detector.resolved_without_words(now, event.start)
        elif isinstance(event, Partial):
            self.events.emit("caller_partial", text=event.text)
            return
        else:
            return  # VAD events were handled as they came out of feed()
        self._after_input()

    def _final(self, final: Final, now: float) -> None:
        if self.turns.final(final.start, final.text) is Decision.BACKCHANNEL:
            self.events.emit("caller_final", final=final, kind="backchannel")
            self.detector.resolved_without_words(now, final.start)
            self._backchannel("words", final.text)
            return
        self.events.emit("caller_final", final=final, kind="turn")
        self.detector.final(now, final)

    def _after_input(self) -> None:
        """After any input: a finished caller turn goes to the dialog; speech that stopped the agent
        but brought nothing resumes it; the turn deadline and the idle timer are re-armed."""
        turn = self.detector.poll(self.loop.time())
        if turn is not None:
            self._user_turn(turn)
        elif self.call.paused and not (self.detector.waiting or self.detector.holding):
            self._backchannel("no_words")
        if self._turn_timer is not None:
            self._turn_timer.cancel()
            self._turn_timer = None
        deadline = self.detector.deadline
        if deadline is not None:
            self._turn_timer = self.loop.call_at(deadline + 1e-3, self._after_input)
        self._refresh_idle()

    # -- barge-in --------------------------------------------------------------------------------
    def _agent_busy(self) -> bool:
        return self.agent_task is not None and not self.agent_task.done()

    def _agent_has_floor(self) -> bool:
        """The agent speaks, or is about to: caller speech now may be a barge-in or "угу"."""
        return self.speaker.speaking or (self._agent_busy() and not self.call.paused)

    def _barge_in(self, at: float) -> None:
        if not self.speaker.pause():
            if self._agent_busy():
                self.speaker.hold()  # the reply being prepared waits for what the caller says
            return
        log.info("barge-in: agent stopped", extra={"context": {**self.ctx, "at_s": round(at, 3)}})
        self.events.emit("barge_in", at_s=at)

    def _backchannel(self, why: str, text: str | None = None) -> None:
        self.events.emit("backchannel", why=why, text=text)
        if not self.call.paused:
            return
        if self.cfg.resume_after_backchannel:
            self.speaker.resume()
            log.info("backchannel: agent resumes", extra={"context": {**self.ctx, "why": why}})
        else:
            self.speaker.interrupt()

    # -- agent turns -----------------------------------------------------------------------------
    def _user_turn(self, turn: UserTurn) -> None:
        self.watchdog.caller_spoke()
        if self.done:  # after the farewell: heard and recorded, but the dialog is over
            self.speaker.resume()
            return
        if self.agent_task is not None and not self.agent_task.done():
            self.agent_task.cancel()  # the caller went on: a reply not yet heard is not said
        self.speaker.interrupt()  # whatever the agent had not said stays unsaid
        self.turn_no += 1
        timeline = TurnTimeline(turn=self.turn_no, text=turn.text)
        key = utterance_key(turn.finals[-1].start)
        if key in self.speech_ends:
            timeline.stamp("speech_end", self.speech_ends[key])
        if key in self.endpoints:
            timeline.stamp("endpoint", self.endpoints[key])
        timeline.stamp("asr_final", self.loop.time())
        self.events.emit("caller_turn", text=turn.text, confidence=turn.first.confidence)
        self._start_agent(self._reply(turn.text, timeline), f"turn-{self.turn_no}")

    def _start_agent(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self.agent_task = asyncio.create_task(work, name=f"{name}-{self.sid}")
        self.agent_task.add_done_callback(lambda _task: self._refresh_idle())
        self._refresh_idle()

    async def _reply(self, text: str, timeline: TurnTimeline | None = None) -> None:
        """One agent turn: the dialog's reply, spoken; after the last one, the hang-up."""
        try:
            result = await self._dialog_step(text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.events.emit("error", component="dialog", message=f"dialog: {exc!r}")
            log.exception("dialog turn failed", extra={"context": self.ctx})
            return
        if timeline is not None:
            timeline.stamp("dialog_done", self.loop.time())
        self._expect_answer(result.state.value, result.reply)
        log.info("dialog turn", extra={"context": {**self.ctx, "state": result.state.value, "turn": self.turn_no,
                                                    "dialog_ms": round(result.latency_ms, 1)}})
        if result.done:
            self.done = True
            self.status = CallStatus(result.slots["status"]) if result.slots.get("status") else None
        await self._say(result.reply, "turn", state=result.state.value, timeline=timeline, slots=result.slots)

    def _expect_answer(self, state: str, question: str) -> None:
        """Tune the ears to the question just asked: its prompt and its endpoint (both validated at start)."""
        prompt = self.s.prompts.for_question(state, question) if self.s.prompts is not None else self.s.prompt
        answers = self.s.answers
        self.transcriber.expect(prompt, self.cfg.answer_endpoints_ms.get(state),
                                None if answers is None else lambda text: answers.complete(state, text))

    async def _dialog_step(self, text: str) -> Any:
        """The dialog's answer to ``text``. Steps run one at a time, in order, and are never cut
        midway: cancelling the agent turn cancels only the waiting, so the session always holds
        every turn the caller said (the reply to an interrupted one is simply never spoken)."""
        previous = self.dialog_task

        async def step() -> Any:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            return await self.s.dialog.handle(self.sid, text, self.call.caller)

        self.dialog_task = asyncio.create_task(step(), name=f"dialog-{self.sid}")
        return await asyncio.shield(self.dialog_task)

    async def _say(self, text: str, kind: str, *, state: str | None = None, timeline: TurnTimeline | None = None,
                   slots: dict[str, Any] | None = None) -> None:
        handle = self.speaker.say(text, kind=kind, state=state, timeline=timeline)
        self.events.emit("agent", handle=handle, slots=slots)
        await handle.wait_for_playout()
        if self.done and self.speaker.current is handle:
            await self.call.hangup(after_playback=True)

    # -- silence ---------------------------------------------------------------------------------
    def _refresh_idle(self) -> None:
        busy = (
            self.done
            or (self.agent_task is not None and not self.agent_task.done())
            or self.speaker.active
            or self.detector.waiting
            or self.detector.holding
            or self.transcriber.speaking
        )
        if busy:
            self.watchdog.activity()
        else:
            self.watchdog.idle()

    def _silence_prompt(self, n: int) -> None:
        self.events.emit("silence_prompt", n=n)
        self._start_agent(self._say(self.cfg.silence_prompt_text, "silence_prompt"), "silence-prompt")

    def _give_up(self) -> None:
        log.info("caller silent; giving up", extra={"context": self.ctx})
        self.done = True
        self.status = CallStatus.ABANDONED
        self._start_agent(self._say(self.cfg.silence_goodbye_text, "goodbye"), "goodbye")
