"""PCM helpers: int16 bytes <-> float32 arrays, resampling, a rolling buffer. The one place that
wraps soxr: whole clips (:func:`resample`, :func:`resample_pcm16`) and streams (:class:`StreamResampler`).

Telephone audio arrives as 8 kHz (or 16 kHz) PCM16 little-endian mono in frames of any size. VAD
and Whisper both want 16 kHz float32, so each stream is resampled ONCE on the way in, by a
stateful soxr stream (no clicks at frame borders), and everything downstream works in 16 kHz.
"""

from __future__ import annotations

import numpy as np

TARGET_RATE = 16000
SUPPORTED_RATES = (8000, 16000)


class AudioFormatError(ValueError):
    """Input audio is not what the protocol promises (odd byte count, unsupported rate)."""


def pcm16_to_float32(data: bytes | bytearray | memoryview) -> np.ndarray:
    """PCM16 little-endian bytes -> float32 in [-1, 1). Raises on an odd byte count."""
    if len(data) % 2:
        raise AudioFormatError(f"PCM16 needs an even number of bytes, got {len(data)}")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float32_to_pcm16(audio: np.ndarray) -> bytes:
    """float32 in [-1, 1] -> PCM16 little-endian bytes (clipped)."""
    clipped = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 32767 / 32768)
    return (clipped * 32768.0).astype("<i2").tobytes()


def as_float32(audio: np.ndarray) -> np.ndarray:
    """Accept float32/float64 in [-1, 1] or int16 samples; return contiguous float32."""
    arr = np.asarray(audio)
    if arr.dtype == np.int16:
        return arr.astype(np.float32) / 32768.0
    if arr.dtype.kind != "f":
        raise AudioFormatError(f"audio must be int16 or float samples, got {arr.dtype}")
    if arr.ndim != 1:
        raise AudioFormatError(f"audio must be mono (1-D), got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_rate(sample_rate: object) -> int:
    if isinstance(sample_rate, bool) or sample_rate not in SUPPORTED_RATES:
        raise AudioFormatError(f"sample_rate must be one of {SUPPORTED_RATES}, got {sample_rate!r}")
    return int(sample_rate)  # type: ignore[call-overload]


def resample(audio: np.ndarray, from_rate: int, to_rate: int = TARGET_RATE, quality: str = "HQ") -> np.ndarray:
    """Whole-clip resampling (tests, bench, files)."""
    audio = as_float32(audio)
    if from_rate == to_rate:
        return audio
    import soxr

    return soxr.resample(audio, from_rate, to_rate, quality=quality).astype(np.float32, copy=False)


def resample_pcm16(pcm: bytes | bytearray | memoryview, from_rate: int, to_rate: int, quality: str = "HQ") -> bytes:
    """Whole-chunk rate conversion of PCM16 mono (an agent utterance, a prompt, a file)."""
    if from_rate == to_rate or not pcm:
        return bytes(pcm)
    return float32_to_pcm16(resample(pcm16_to_float32(pcm), from_rate, to_rate, quality))


class StreamResampler:
    """Stateful resampler for one stream: call :meth:`process` per frame, :meth:`flush` at the end.

    A no-op at 16 kHz. soxr holds back a few ms of output (its filter delay), returned by flush.
    """

    def __init__(self, from_rate: int, to_rate: int = TARGET_RATE, quality: str = "LQ", *,
                 any_rate: bool = False) -> None:
        """``from_rate`` is a phone line's rate (8 or 16 kHz) unless ``any_rate`` (a synthesiser's)."""
        if not any_rate:
            check_rate(from_rate)
        elif isinstance(from_rate, bool) or not isinstance(from_rate, int) or from_rate <= 0:
            raise AudioFormatError(f"sample_rate must be a positive integer, got {from_rate!r}")
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream = None
        if from_rate != to_rate:
            import soxr

            self._stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32", quality=quality)

    def process(self, audio: np.ndarray) -> np.ndarray:
        if self._stream is None:
            return audio
        return self._stream.resample_chunk(audio)

    def flush(self) -> np.ndarray:
        if self._stream is None:
            return np.zeros(0, dtype=np.float32)
        return self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)


class RollingAudio:
    """The recent 16 kHz audio of one stream, addressed by absolute sample index.

    A call can last an hour; only the open utterance plus a little pre-roll is kept, so memory is
    bounded by the longest utterance (capped by ``max_utterance_s``) rather than the call.
    """

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._start = 0  # absolute index of the first kept sample
        self._end = 0  # absolute index one past the last sample

    @property
    def end(self) -> int:
        return self._end

    @property
    def start(self) -> int:
        return self._start

    def append(self, audio: np.ndarray) -> None:
        if audio.size:
            self._chunks.append(audio)
            self._end += audio.size

    def slice(self, start: int, end: int) -> np.ndarray:
        """Samples ``[start, end)`` clipped to what is kept."""
        start, end = max(start, self._start), min(end, self._end)
        if end <= start:
            return np.zeros(0, dtype=np.float32)
        self._compact()
        return self._chunks[0][start - self._start : end - self._start].copy()

    def trim_before(self, index: int) -> None:
        """Forget samples before ``index``."""
        index = min(index, self._end)
        if index <= self._start:
            return
        self._compact()
        self._chunks = [self._chunks[0][index - self._start :]] if self._chunks else []
        self._start = index

    def _compact(self) -> None:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
