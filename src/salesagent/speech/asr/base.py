"""What every ASR engine returns, and the Protocol the rest of the product codes against.

The streaming layer, the gateway and the bench only see :class:`AsrEngine`; faster-whisper is one
implementation chosen by configuration, so a GPU engine or another model family can replace it
without touching callers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True, slots=True)
class Segment:
    """One decoded piece with Whisper's own quality signals (kept for confidence and filtering)."""

    text: str
    start: float
    end: float
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float = 1.0

    @property
    def confidence(self) -> float:
        """P(tokens) per token times P(speech): 1.0 is certain, 0.0 is noise."""
        return max(0.0, min(1.0, math.exp(self.avg_logprob) * (1.0 - self.no_speech_prob)))


@dataclass(frozen=True, slots=True)
class Transcript:
    """Text of one clip plus the segments it came from (after hallucination filtering)."""

    text: str
    segments: tuple[Segment, ...]
    confidence: float
    audio_s: float
    decode_s: float
    dropped: tuple[str, ...] = ()  # segment texts removed as hallucinations / noise


def combined_confidence(segments: tuple[Segment, ...] | list[Segment]) -> float:
    """Text-length weighted mean of segment confidences (long segments dominate)."""
    weights = [max(1, len(s.text.strip())) for s in segments]
    if not segments:
        return 0.0
    return sum(s.confidence * w for s, w in zip(segments, weights, strict=True)) / sum(weights)


@runtime_checkable
class AsrEngine(Protocol):
    """Speech to text on a whole clip of 16 kHz mono audio (float32 in [-1, 1] or int16).

    Must be safe to call from several threads at once (the scheduler runs N workers on ONE
    instance) and must never download anything.
    """

    name: str

    def transcribe(self, audio: np.ndarray, prompt: str | None = None) -> Transcript: ...


#: The issue's alternative name for the same interface.
SpeechRecognizer = AsrEngine
