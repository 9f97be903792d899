"""Observers of one call: the report, the latency timelines, the recording, Prometheus, and the
live view (the demo's terminal). The engine only emits events; each observer takes the ones it
cares about by defining ``on_<kind>(**data)``, so none of this is written inline in the engine.

Events (keyword data):

* ``caller_audio(pcm, t, rate)``, ``agent_audio(item)``: the recording;
* ``caller_final(final, kind)``: one transcript (``kind`` turn or backchannel);
* ``caller_turn(text, confidence)``: a turn sent to the dialog;
* ``agent(handle, slots)``, ``agent_settled(handle)``: an utterance began / was played or cut;
* ``barge_in(at_s)``, ``backchannel(why, text)``, ``silence_prompt(n)``, ``error(component, message)``;
* ``latency(timeline)``: a turn's timeline is complete; ``ended(status, reason, report, paths)``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from salesagent.pipeline import metrics
from salesagent.pipeline.latency import CallLatency, TurnTimeline
from salesagent.pipeline.ports import CallObserver
from salesagent.pipeline.recorder import StereoRecorder
from salesagent.pipeline.report import CallReport, TranscriptEntry
from salesagent.pipeline.speech_handle import SpeechHandle
from salesagent.speech.asr.streaming import Final
from salesagent.transport.playback import PlaybackItem

log = logging.getLogger(__name__)


class CallEvents:
    """The engine's event bus for one call. A failing observer is logged, never fatal."""

    def __init__(self, call_id: str, observers: list[Any]) -> None:
        self.call_id = call_id
        self.observers = observers

    def emit(self, kind: str, /, **data: Any) -> None:
        for observer in self.observers:
            handler = getattr(observer, f"on_{kind}", None)
            if handler is None:
                continue
            try:
                handler(**data)
            except Exception:
                log.exception("call observer failed", extra={"context": {"call_id": self.call_id, "event": kind}})


class ReportObserver:
    """Builds the :class:`CallReport`: every line said, heard, cut, and the counters."""

    def __init__(self, report: CallReport, t0: float, clock: Any) -> None:
        self.report = report
        self.t0 = t0
        self.clock = clock  # loop.time
        self.entries: dict[int, TranscriptEntry] = {}

    def _now(self) -> float:
        return round(self.clock() - self.t0, 3)

    def on_caller_final(self, final: Final, kind: str) -> None:
        self.report.transcript.append(TranscriptEntry(
            role="caller", text=final.text, start=round(final.start, 3), end=round(final.end, 3),
            confidence=final.confidence, kind=kind))

    def on_agent(self, handle: SpeechHandle, slots: dict[str, Any] | None = None) -> None:
        entry = TranscriptEntry(role="agent", text=handle.text, start=self._now(), state=handle.state, kind=handle.kind)
        self.entries[handle.id] = entry
        self.report.transcript.append(entry)

    def on_agent_settled(self, handle: SpeechHandle) -> None:
        entry = self.entries.get(handle.id)
        if entry is None or entry.heard_fraction is not None:
            return
        entry.end = self._now()
        entry.heard_fraction = handle.heard_fraction
        if handle.cut:
            entry.interrupted = True
            entry.heard_text = handle.heard_text()
            log.info("agent interrupted", extra={"context": {"call_id": self.report.call_id,
                                                             "heard_fraction": entry.heard_fraction}})

    def on_barge_in(self, at_s: float) -> None:
        self.report.barge_ins += 1

    def on_backchannel(self, why: str, text: str | None = None) -> None:
        self.report.backchannels += 1

    def on_silence_prompt(self, n: int) -> None:
        self.report.silence_prompts += 1

    def on_error(self, component: str, message: str) -> None:
        self.report.errors.append(message)


class LatencyObserver:
    """Per-turn timelines, logged and exported once the reply reached the caller (or never did)."""

    def __init__(self, events: CallEvents, context: dict[str, Any]) -> None:
        self.latency = CallLatency()
        self.events = events
        self.context = context

    def on_agent_settled(self, handle: SpeechHandle) -> None:
        if handle.timeline is not None and handle.timeline not in self.latency.turns:
            self.latency.add(handle.timeline)
            log.info("turn latency", extra={"context": {**self.context, **handle.timeline.as_dict()}})
            self.events.emit("latency", timeline=handle.timeline)


class MetricsObserver:
    """Prometheus counters (``salesagent_voice_*``)."""

    def on_caller_turn(self, text: str, confidence: float) -> None:
        metrics.TURNS.inc()

    def on_latency(self, timeline: TurnTimeline) -> None:
        v2v = timeline.voice_to_voice_ms
        metrics.observe_turn(None if v2v is None else v2v / 1000, timeline.stages_ms())

    def on_barge_in(self, at_s: float) -> None:
        metrics.BARGE_INS.labels(outcome="interrupt").inc()

    def on_backchannel(self, why: str, text: str | None = None) -> None:
        metrics.BARGE_INS.labels(outcome="backchannel").inc()

    def on_silence_prompt(self, n: int) -> None:
        metrics.SILENCE_PROMPTS.inc()

    def on_error(self, component: str, message: str) -> None:
        metrics.ERRORS.labels(component=component).inc()


class RecorderObserver:
    """Both sides of the call into the stereo WAV."""

    def __init__(self, recorder: StereoRecorder) -> None:
        self.recorder = recorder

    def on_caller_audio(self, pcm: bytes, t: float, rate: int) -> None:
        self.recorder.caller(pcm, t, rate)

    def on_agent_audio(self, item: PlaybackItem) -> None:
        self.recorder.agent(item)


class LiveObserver:
    """Adapts the events to a :class:`CallObserver` (JSON-able dicts), e.g. the demo's terminal."""

    def __init__(self, call_id: str, observer: CallObserver) -> None:
        self.call_id = call_id
        self.observer = observer

    def _send(self, kind: str, data: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            self.observer.on_event(self.call_id, kind, data)

    def on_agent(self, handle: SpeechHandle, slots: dict[str, Any] | None = None) -> None:
        self._send("agent", {"text": handle.text, "state": handle.state, "kind": handle.kind, "slots": slots or {}})

    def on_caller_turn(self, text: str, confidence: float) -> None:
        self._send("caller", {"text": text, "confidence": confidence})

    def on_latency(self, timeline: TurnTimeline) -> None:
        self._send("latency", timeline.as_dict())

    def on_barge_in(self, at_s: float) -> None:
        self._send("barge_in", {"at_s": round(at_s, 3)})

    def on_backchannel(self, why: str, text: str | None = None) -> None:
        self._send("backchannel", {"why": why, "text": text})

    def on_silence_prompt(self, n: int) -> None:
        self._send("silence_prompt", {"n": n})

    def on_ended(self, status: str, reason: str | None, report: dict[str, Any], paths: dict[str, str]) -> None:
        self._send("ended", {"status": status, "reason": reason, "report": report,
                             **{f"{k}_path": v for k, v in paths.items()}})
