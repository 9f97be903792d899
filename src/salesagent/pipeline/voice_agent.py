"""The phone agent: one :class:`VoiceAgent` handles every call a bridge hands it.

Per call (:class:`VoiceCall`):

* inbound caller audio -> :class:`~salesagent.speech.asr.streaming.StreamingTranscriber` (VAD at
  once, Whisper decodes on the process-wide :class:`DecodeScheduler`, shared by all calls);
* every final transcript that is a real turn -> ``DialogService.handle`` -> the reply, split into
  sentences, synthesised sentence by sentence and enqueued chunk by chunk, so the first sentence
  plays while the rest is synthesised;
* barge-in on the VAD (``turns.TurnTaking``): the agent's audio is cleared at once; a backchannel
  resumes the interrupted sentence, a real turn drops the rest (recorded as not said);
* silence watchdog: "Вы меня слышите?", then a goodbye and a hang-up as ``abandoned``;
* the dialog ends: the farewell is played to its mark, then the call is hung up;
* whatever ends the call: ``DialogService.end_call`` (the lead is kept), report and recording saved.

The inbound stream is the caller's channel only (bridges drop the agent leg), so the agent never
hears itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from salesagent.dialog.service import DialogService
from salesagent.dialog.slots import CallStatus
from salesagent.pipeline import metrics
from salesagent.pipeline.config import VoiceSettings
from salesagent.pipeline.latency import CallLatency, TurnTimeline
from salesagent.pipeline.recorder import StereoRecorder
from salesagent.pipeline.report import CallReport, TranscriptEntry
from salesagent.pipeline.speech import SpeechSynthesizer, split_sentences
from salesagent.pipeline.turns import Decision, InterruptionOptions, TurnTaking
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.streaming import Final, StreamingTranscriber
from salesagent.speech.config import AsrSettings, VadSettings
from salesagent.speech.vad import SpeechEnded, SpeechStarted
from salesagent.transport.call import Call, PlaybackItem, PlaybackState
from salesagent.transport.events import AudioIn, CallStopped, Dtmf

log = logging.getLogger(__name__)
_reply_ids = itertools.count(1)


class CallObserver(Protocol):
    """Live view of calls (the demo's terminal): ``kind`` is agent, caller, barge_in, backchannel,
    latency, silence_prompt or ended; ``data`` is JSON-able."""

    def on_event(self, call_id: str, kind: str, data: dict[str, Any]) -> None: ...


class RecordSink(Protocol):
    """``notify.CallRecordStore``: where reports and recordings go."""

    def save_report(self, call_id: str, report: dict[str, Any]) -> Any: ...

    def save_recording(self, call_id: str, wav_bytes: bytes) -> Any: ...


@dataclass
class VoiceServices:
    """What all calls of a process share: the dialog, ONE ASR scheduler, the voice, the records."""

    dialog: DialogService
    scheduler: DecodeScheduler
    tts: SpeechSynthesizer
    settings: VoiceSettings = field(default_factory=VoiceSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    vad: VadSettings = field(default_factory=VadSettings)
    prompt: str | None = None
    records: RecordSink | None = None
    observer: CallObserver | None = None


@dataclass(eq=False)
class _Sentence:
    text: str
    pcm: bytearray = field(default_factory=bytearray)
    items: list[PlaybackItem] = field(default_factory=list)
    synthesised: bool = False

    @property
    def heard_s(self) -> float:
        return sum(i.heard_s for i in self.items)


@dataclass(eq=False)
class _Reply:
    """One agent utterance (a dialog reply, a prompt, a goodbye) on its way to the caller."""

    text: str
    kind: str
    state: str | None
    sentences: list[_Sentence]
    entry: TranscriptEntry
    timeline: TurnTimeline | None = None
    id: int = field(default_factory=lambda: next(_reply_ids))
    paused: bool = False  # cut by speech that may be a backchannel; synthesis goes on into .pcm
    cancelled: bool = False  # cut by a real turn: the rest is never said
    synth_done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    marker: PlaybackItem | None = None

    @property
    def items(self) -> list[PlaybackItem]:
        return [i for s in self.sentences for i in s.items]

    @property
    def playing(self) -> bool:
        """Audio of this reply is queued or unplayed, or still to be synthesised."""
        if self.cancelled:
            return False
        if not self.synth_done.is_set():
            return True
        return any(not i.finished for i in self.items) or (self.marker is not None and not self.marker.finished)


class VoiceAgent:
    """The :class:`~salesagent.transport.CallHandler` of the product."""

    def __init__(self, services: VoiceServices) -> None:
        self.services = services

    async def handle(self, call: Call) -> None:
        await VoiceCall(call, self.services).run()


class VoiceCall:
    """State of one call. Lives on the event loop; the dialog and decodes run in threads."""

    def __init__(self, call: Call, services: VoiceServices) -> None:
        self.call = call
        self.s = services
        self.cfg = services.settings
        self.sid = call.call_id
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.ctx = {"call_id": call.call_id, "session_id": call.call_id}
        self.turns = TurnTaking(InterruptionOptions.from_settings(self.cfg))
        self.latency = CallLatency()
        self.recorder = StereoRecorder(call.out_rate, self.t0) if self.cfg.record_calls else None
        self.report = CallReport(call.call_id, call.transport, call.caller, datetime.now(UTC))
        self.transcriber = StreamingTranscriber(
            services.scheduler,
            sample_rate=call.sample_rate,
            asr=services.asr,
            vad=services.vad,
            prompt=services.prompt,
            stream_id=f"call-{call.call_id}",
        )
        self.replies: list[_Reply] = []
        self.finals: asyncio.Queue[Final] = asyncio.Queue()
        self.frames: deque[tuple[float, float]] = deque(maxlen=1500)  # (stream end s, arrival loop time)
        self.endpoints: dict[float, float] = {}  # utterance start -> loop time of SpeechEnded
        self.speech_ends: dict[float, float] = {}  # utterance start -> loop time the last voiced frame arrived
        self.last_activity = self.t0
        self.last_speech_end: float | None = None
        self.prompts_said = 0
        self.busy = False  # a turn is between its final and its reply
        self.done = False  # the dialog finished or we gave up; hang up after the last reply
        self.status: CallStatus | None = None
        self.turn_no = 0
        self.aux: set[asyncio.Task[Any]] = set()

    # -- run ---------------------------------------------------------------------------------------
    async def run(self) -> None:
        metrics.ACTIVE_CALLS.inc()
        tasks = [
            asyncio.create_task(self._asr_events(), name=f"asr-{self.sid}"),
            asyncio.create_task(self._turn_worker(), name=f"turns-{self.sid}"),
            asyncio.create_task(self._silence_watch(), name=f"silence-{self.sid}"),
        ]
        try:
            await self._greet()
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
            for task in [*tasks, *self.aux]:
                task.cancel()
            for reply in self.replies:
                if reply.task is not None:
                    reply.task.cancel()
            self.transcriber.cancel()
            await asyncio.gather(*tasks, *self.aux, *(r.task for r in self.replies if r.task),
                                 return_exceptions=True)
            metrics.ACTIVE_CALLS.dec()
            await self._close()

    # -- inbound audio -----------------------------------------------------------------------------
    def _audio(self, event: AudioIn) -> None:
        now = self.loop.time()
        self.frames.append((event.t + event.duration_s, now))
        if self.recorder is not None:
            self.recorder.caller(event.pcm, event.t, event.sample_rate)
        try:
            vad_events = self.transcriber.feed(event.pcm)
        except Exception as exc:  # a malformed frame must not end the call's recognition
            metrics.ERRORS.labels(component="asr").inc()
            log.warning("inbound frame rejected by ASR", extra={"context": {**self.ctx, "error": str(exc)}})
            return
        speaking = self._agent_speaking()
        for ev in vad_events:
            if isinstance(ev, SpeechStarted):
                self.last_activity = now
                if self.turns.speech_started(ev.start, speaking) is Decision.INTERRUPT:
                    self._interrupt(ev.start)
            elif isinstance(ev, SpeechEnded):
                self.last_activity = now
                key = TurnTaking.key(ev.start)
                self.endpoints[key] = now
                self.last_speech_end = now
                self.speech_ends[key] = self._arrival_of(ev.end)
                if self.turns.speech_ended(ev.start, ev.end) is Decision.BACKCHANNEL:
                    self._backchannel(ev.start, "short")
        if self.transcriber.speaking and self.turns.speech_continues(
            self.transcriber.position_s, speaking
        ) is Decision.INTERRUPT:
            self._interrupt(self.transcriber.position_s)

    def _arrival_of(self, stream_s: float) -> float:
        """Loop time the inbound frame holding stream second ``stream_s`` arrived."""
        for end, arrived in self.frames:
            if end >= stream_s:
                return arrived
        return self.frames[-1][1] if self.frames else self.loop.time()

    async def _asr_events(self) -> None:
        async for event in self.transcriber.events():
            if isinstance(event, Final):
                self.finals.put_nowait(event)

    # -- turns -------------------------------------------------------------------------------------
    async def _turn_worker(self) -> None:
        while True:
            final = await self.finals.get()
            decision = self.turns.final(final.start, final.text)
            self._entry("caller", final.text, final.start, final.end, confidence=final.confidence,
                        kind="backchannel" if decision is Decision.BACKCHANNEL else "turn")
            if decision is Decision.BACKCHANNEL:
                self._backchannel(final.start, "words", final.text)
                continue
            if self.done:
                continue
            self.busy = True
            try:
                texts, first = [final.text], final
                if self.cfg.endpointing_delay_ms:
                    await asyncio.sleep(self.cfg.endpointing_delay_ms / 1000)
                while self.transcriber.speaking or not self.finals.empty():
                    # The caller went on talking: one turn, joined, answered once.
                    nxt = await self.finals.get()
                    if self.turns.final(nxt.start, nxt.text) is Decision.TURN:
                        texts.append(nxt.text)
                        self._entry("caller", nxt.text, nxt.start, nxt.end, confidence=nxt.confidence)
                await self._take_turn(" ".join(texts), first)
            finally:
                self.busy = False
                self.last_activity = self.loop.time()

    async def _take_turn(self, text: str, final: Final) -> None:
        self.turn_no += 1
        self.prompts_said = 0
        key = TurnTaking.key(final.start)
        tl = TurnTimeline(turn=self.turn_no, text=text)
        if key in self.speech_ends:
            tl.stamp("speech_end", self.speech_ends[key])
        if key in self.endpoints:
            tl.stamp("endpoint", self.endpoints[key])
        tl.stamp("asr_final", self.loop.time())
        metrics.TURNS.inc()
        self._notify("caller", {"text": text, "confidence": final.confidence})
        for reply in self.replies:  # a real turn: whatever the agent had not said stays unsaid
            if reply.paused:
                self._cancel(reply)
        try:
            result = await self.s.dialog.handle(self.sid, text, self.call.caller)
        except Exception as exc:
            metrics.ERRORS.labels(component="dialog").inc()
            self.report.errors.append(f"dialog: {exc!r}")
            log.exception("dialog turn failed", extra={"context": self.ctx})
            return
        tl.stamp("dialog_done", self.loop.time())
        log.info("dialog turn", extra={"context": {**self.ctx, "state": result.state.value, "turn": self.turn_no,
                                                    "dialog_ms": round(result.latency_ms, 1)}})
        self._speak(result.reply, kind="turn", state=result.state.value, timeline=tl, slots=result.slots)
        if result.done:
            self.done = True
            self.status = CallStatus(result.slots["status"]) if result.slots.get("status") else None

    async def _greet(self) -> None:
        try:
            result = await self.s.dialog.handle(self.sid, "", self.call.caller)
        except Exception as exc:
            metrics.ERRORS.labels(component="dialog").inc()
            self.report.errors.append(f"dialog: {exc!r}")
            log.exception("greeting failed", extra={"context": self.ctx})
            return
        self._speak(result.reply, kind="turn", state=result.state.value, slots=result.slots)

    # -- speaking ----------------------------------------------------------------------------------
    def _agent_speaking(self) -> bool:
        return any(r.playing and not r.paused for r in self.replies)

    def _speak(
        self, text: str, *, kind: str, state: str | None = None, timeline: TurnTimeline | None = None,
        slots: dict[str, Any] | None = None,
    ) -> _Reply:
        entry = self._entry("agent", text, self.loop.time() - self.t0, state=state, kind=kind)
        reply = _Reply(text=text, kind=kind, state=state, entry=entry, timeline=timeline,
                       sentences=[_Sentence(s) for s in split_sentences(text)])
        self.replies = [r for r in self.replies if r.playing or r.paused]
        self.replies.append(reply)
        reply.task = asyncio.create_task(self._synthesise(reply), name=f"say-{self.sid}-{reply.id}")
        self._notify("agent", {"text": text, "state": state, "kind": kind, "slots": slots or {}})
        return reply

    async def _synthesise(self, reply: _Reply) -> None:
        rate = self.cfg.tts_sample_rate
        if reply.timeline is not None:
            self._spawn(self._finish_timeline(reply), f"latency-{self.sid}-{reply.id}")
        try:
            for sentence in reply.sentences:
                if reply.cancelled:
                    break
                try:
                    async for chunk in self.s.tts.stream(sentence.text, rate):
                        if reply.cancelled:
                            break
                        if reply.timeline is not None and reply.timeline.tts_first is None:
                            reply.timeline.stamp("tts_first", self.loop.time())
                        sentence.pcm += chunk
                        if not reply.paused:
                            self._enqueue(sentence, chunk, rate, first=not sentence.items)
                except Exception as exc:
                    metrics.ERRORS.labels(component="tts").inc()
                    self.report.errors.append(f"tts: {exc!r}")
                    log.error("TTS failed; sentence skipped",
                              extra={"context": {**self.ctx, "error": repr(exc), "sentence": sentence.text}})
                sentence.synthesised = True
        finally:
            reply.synth_done.set()
        if not reply.cancelled:
            reply.marker = self.call.enqueue(b"", mark=f"reply-{reply.id}")
        await self._settle(reply)

    def _enqueue(self, sentence: _Sentence, pcm: bytes, rate: int, first: bool) -> None:
        item = self.call.enqueue(pcm, sample_rate=rate, text=sentence.text if first else None)
        sentence.items.append(item)
        if self.recorder is not None:
            self.recorder.agent(item)

    async def _finish_timeline(self, reply: _Reply) -> None:
        """Stamp when the reply's first frame hit the wire, then log and export the turn."""
        tl = reply.timeline
        assert tl is not None
        deadline = self.loop.time() + 30
        while self.loop.time() < deadline and not reply.cancelled:
            first = next((i for i in reply.items if i.play_start is not None), None)
            if first is not None:
                tl.stamp("first_audio", first.play_start)  # type: ignore[arg-type]
                break
            if reply.synth_done.is_set() and not reply.items:
                break
            await asyncio.sleep(0.005)
        self.latency.add(tl)
        v2v = tl.voice_to_voice_ms
        metrics.observe_turn(None if v2v is None else v2v / 1000, tl.stages_ms())
        log.info("turn latency", extra={"context": {**self.ctx, **tl.as_dict()}})
        self._notify("latency", tl.as_dict())

    async def _settle(self, reply: _Reply) -> None:
        """Wait until the reply is played or cut; then record what the caller heard."""
        while True:
            if reply.cancelled:
                break
            pending = [i for i in reply.items if not i.finished]
            if reply.marker is not None and not reply.marker.finished:
                pending.append(reply.marker)
            if not pending and not reply.paused:
                break
            if pending:
                await asyncio.wait([asyncio.ensure_future(i.wait()) for i in pending],
                                   return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(0.05)  # paused: the backchannel decision comes from the VAD/ASR
        self._record_heard(reply)
        self.last_activity = self.loop.time()
        if self.done and not self.busy and not self._agent_speaking() and self.finals.empty():
            await self.call.hangup(after_playback=True)

    def _record_heard(self, reply: _Reply) -> None:
        total = sum(len(s.pcm) for s in reply.sentences) / 2 / self.cfg.tts_sample_rate
        heard = sum(min(s.heard_s, len(s.pcm) / 2 / self.cfg.tts_sample_rate) for s in reply.sentences)
        fraction = 1.0 if total == 0 else round(min(1.0, heard / total), 3)
        interrupted = reply.cancelled or any(i.state is PlaybackState.CLEARED for i in reply.items)
        reply.entry.end = round(self.loop.time() - self.t0, 3)
        reply.entry.heard_fraction = fraction
        if interrupted and fraction < 0.999:
            reply.entry.interrupted = True
            heard_sentences = []
            for s in reply.sentences:
                dur = len(s.pcm) / 2 / self.cfg.tts_sample_rate
                if dur and s.heard_s >= dur * 0.98:
                    heard_sentences.append(s.text)
                elif s.heard_s > 0:
                    words = s.text.split()
                    heard_sentences.append(" ".join(words[: int(len(words) * s.heard_s / dur)]) + "…")
                    break
                else:
                    break
            reply.entry.heard_text = " ".join(heard_sentences).strip()
            log.info("agent interrupted", extra={"context": {**self.ctx, "heard_fraction": fraction,
                                                             "reply": reply.id}})

    # -- barge-in ----------------------------------------------------------------------------------
    def _interrupt(self, at: float) -> None:
        active = [r for r in self.replies if r.playing and not r.paused]
        if not active:
            return
        self.call.clear()
        for reply in active:
            reply.paused = True
        self.report.barge_ins += 1
        metrics.BARGE_INS.labels(outcome="interrupt").inc()
        log.info("barge-in: agent stopped", extra={"context": {**self.ctx, "at_s": round(at, 3)}})
        self._notify("barge_in", {"at_s": round(at, 3)})

    def _backchannel(self, start: float, why: str, text: str | None = None) -> None:
        self.report.backchannels += 1
        metrics.BARGE_INS.labels(outcome="backchannel").inc()
        self._notify("backchannel", {"why": why, "text": text})
        paused = [r for r in self.replies if r.paused and not r.cancelled]
        if not paused:
            return
        if not self.s.settings.resume_after_backchannel:
            for reply in paused:
                self._cancel(reply)
            return
        for reply in paused:
            self._resume(reply)

    def _resume(self, reply: _Reply) -> None:
        """Say the interrupted sentence again from its start, then the rest of the reply."""
        reply.paused = False
        rate = self.cfg.tts_sample_rate
        chunk = rate * 2 // 5  # 200 ms
        for sentence in reply.sentences:
            dur = len(sentence.pcm) / 2 / rate
            if sentence.items and sentence.heard_s >= dur * 0.98 and sentence.synthesised:
                continue  # fully heard
            if not sentence.pcm:
                break  # the synthesis task will enqueue it as it comes
            sentence.items = []
            for off in range(0, len(sentence.pcm), chunk):
                self._enqueue(sentence, bytes(sentence.pcm[off : off + chunk]), rate, first=off == 0)
        log.info("backchannel: agent resumes", extra={"context": {**self.ctx, "reply": reply.id}})

    def _cancel(self, reply: _Reply) -> None:
        reply.cancelled = True
        reply.paused = False

    # -- silence -----------------------------------------------------------------------------------
    async def _silence_watch(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self._resume_if_no_words()
            if self.done or self.busy or self._agent_speaking() or self.transcriber.speaking:
                continue
            if any(r.paused for r in self.replies) or not self.finals.empty():
                continue
            if self.loop.time() - self.last_activity < self.cfg.silence_prompt_s:
                continue
            if self.prompts_said < self.cfg.silence_prompts:
                self.prompts_said += 1
                self.report.silence_prompts += 1
                metrics.SILENCE_PROMPTS.inc()
                self._notify("silence_prompt", {"n": self.prompts_said})
                self._speak(self.cfg.silence_prompt_text, kind="silence_prompt")
            else:
                log.info("caller silent; giving up", extra={"context": self.ctx})
                self.done = True
                self.status = CallStatus.ABANDONED
                self._speak(self.cfg.silence_goodbye_text, kind="goodbye")
            self.last_activity = self.loop.time()

    def _resume_if_no_words(self) -> None:
        """Speech stopped the agent but gave no transcript (a cough, a noise): resume after a while."""
        paused = [r for r in self.replies if r.paused and not r.cancelled]
        if not paused or self.transcriber.speaking or self.last_speech_end is None:
            return
        if self.loop.time() - self.last_speech_end < self.cfg.false_interruption_timeout_s:
            return
        self._backchannel(self.last_speech_end, "no_words")

    # -- end of call -------------------------------------------------------------------------------
    async def _close(self) -> None:
        stopped = self.call.stopped
        self.report.end_reason = stopped.reason if stopped else None
        self.report.duration_s = round(self.loop.time() - self.t0, 3)
        for reply in self.replies:
            if reply.entry.heard_fraction is None:
                self._record_heard(reply)
        session = None
        try:
            session = await self.s.dialog.end_call(self.sid, self.status or CallStatus.ABANDONED)
        except Exception as exc:
            metrics.ERRORS.labels(component="dialog").inc()
            log.exception("end_call failed", extra={"context": self.ctx})
            self.report.errors.append(f"end_call: {exc!r}")
        status = session.slots.status.value if session and session.slots.status else "unknown"
        metrics.CALLS.labels(status=status).inc()
        summary = self.latency.summary()
        report = self.report.to_dict(session, {"turns": [t.as_dict() for t in self.latency.turns], **summary})
        paths: dict[str, str] = {}
        if self.s.records is not None:
            try:
                started = time.perf_counter()
                if self.cfg.save_reports:
                    paths["report"] = str(await asyncio.to_thread(self.s.records.save_report, self.sid, report))
                if self.recorder is not None:
                    wav = await asyncio.to_thread(self.recorder.wav_bytes)
                    saved = await asyncio.to_thread(self.s.records.save_recording, self.sid, wav)
                    if saved is not None:
                        paths["recording"] = str(saved)
                log.debug("records saved", extra={"context": {**self.ctx, "s": time.perf_counter() - started}})
            except Exception:
                metrics.ERRORS.labels(component="record").inc()
                log.exception("saving call records failed", extra={"context": self.ctx})
        log.info("call summary", extra={"context": {**self.ctx, "status": status, "reason": self.report.end_reason,
                                                    "duration_s": self.report.duration_s,
                                                    "barge_ins": self.report.barge_ins, **summary}})
        self._notify("ended", {"status": status, "reason": self.report.end_reason, "report": report,
                               **{f"{k}_path": v for k, v in paths.items()}})

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self.aux.add(task)
        task.add_done_callback(self.aux.discard)

    # -- helpers -----------------------------------------------------------------------------------
    def _entry(self, role: str, text: str, start: float, end: float | None = None, **kw: Any) -> TranscriptEntry:
        entry = TranscriptEntry(role=role, text=text, start=round(start, 3),
                                end=None if end is None else round(end, 3), **kw)
        self.report.transcript.append(entry)
        return entry

    def _notify(self, kind: str, data: dict[str, Any]) -> None:
        if self.s.observer is None:
            return
        with contextlib.suppress(Exception):
            self.s.observer.on_event(self.sid, kind, data)
