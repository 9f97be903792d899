"""Latency where the caller hears it: one timeline per turn, a summary per call.

Stamps are event-loop times (``loop.time()``, the same clock the outbound pump uses for its play
clock), so the last one can be the moment the first frame of the reply went on the wire::

    speech_end     the inbound frame holding the caller's last voiced sample arrived
    endpoint       the VAD declared the end of the utterance (min_silence_ms of silence)
    asr_final      the final transcript was ready
    dialog_done    the dialog engine returned the reply
    tts_first      the synthesizer produced the reply's first audio chunk
    first_audio    the first frame of the reply was sent to the caller

``voice_to_voice = first_audio - speech_end`` is what the caller experiences as the agent's
reaction time. The stage durations are the differences between consecutive stamps.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

STAMPS = ("speech_end", "endpoint", "asr_final", "dialog_done", "tts_first", "first_audio")
STAGES = {  # stage -> (from stamp, to stamp)
    "endpointing": ("speech_end", "endpoint"),
    "asr": ("endpoint", "asr_final"),
    "dialog": ("asr_final", "dialog_done"),
    "tts_first_chunk": ("dialog_done", "tts_first"),
    "playout_start": ("tts_first", "first_audio"),
}


@dataclass
class TurnTimeline:
    """Stamps of one caller turn (seconds, loop clock); missing stamps stay ``None``."""

    turn: int
    speech_end: float | None = None
    endpoint: float | None = None
    asr_final: float | None = None
    dialog_done: float | None = None
    tts_first: float | None = None
    first_audio: float | None = None
    text: str = ""

    def stamp(self, name: str, t: float) -> None:
        if name not in STAMPS:
            raise KeyError(name)
        setattr(self, name, t)

    @property
    def voice_to_voice_ms(self) -> float | None:
        if self.speech_end is None or self.first_audio is None:
            return None
        return (self.first_audio - self.speech_end) * 1000

    def stages_ms(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for stage, (a, b) in STAGES.items():
            ta, tb = getattr(self, a), getattr(self, b)
            if ta is not None and tb is not None:
                out[stage] = round((tb - ta) * 1000, 1)
        return out

    def as_dict(self) -> dict[str, Any]:
        v2v = self.voice_to_voice_ms
        return {
            "turn": self.turn,
            "voice_to_voice_ms": None if v2v is None else round(v2v, 1),
            "stages_ms": self.stages_ms(),
        }


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class CallLatency:
    """All turns of one call and their summary."""

    turns: list[TurnTimeline] = field(default_factory=list)

    def add(self, timeline: TurnTimeline) -> None:
        self.turns.append(timeline)

    def summary(self) -> dict[str, Any]:
        v2v = [t.voice_to_voice_ms for t in self.turns if t.voice_to_voice_ms is not None]
        stages: dict[str, dict[str, float]] = {}
        for stage in STAGES:
            values = [t.stages_ms()[stage] for t in self.turns if stage in t.stages_ms()]
            if values:
                stages[stage] = {"mean_ms": round(statistics.fmean(values), 1), "max_ms": round(max(values), 1)}
        return {
            "turns_measured": len(v2v),
            "voice_to_voice_ms": {
                "p50": _r(percentile(v2v, 50)),
                "p95": _r(percentile(v2v, 95)),
                "max": _r(max(v2v) if v2v else None),
                "mean": _r(statistics.fmean(v2v) if v2v else None),
            },
            "stages": stages,
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
