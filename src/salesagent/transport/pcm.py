"""Small PCM16 helpers the bridges share: validation, de-interleaving, rate conversion.

Kept here rather than borrowed from ``speech.audio`` so transports depend on numpy alone; soxr is
imported only when a rate actually has to change (agent audio at a TTS rate different from the
wire rate).
"""

from __future__ import annotations

import numpy as np

WIRE_RATES = (8000, 16000)


class PcmError(ValueError):
    """Audio bytes that cannot be what the protocol promised."""


def check_pcm16(data: bytes | bytearray | memoryview, channels: int = 1) -> None:
    block = 2 * channels
    if len(data) % block:
        raise PcmError(f"PCM16 with {channels} channel(s) needs a multiple of {block} bytes, got {len(data)}")


def left_channel(data: bytes, channels: int = 2) -> bytes:
    """Interleaved PCM16 -> the first (left) channel; mod_audio_fork puts the caller there."""
    check_pcm16(data, channels)
    return np.frombuffer(data, dtype="<i2")[::channels].tobytes()


def resample_pcm16(data: bytes, from_rate: int, to_rate: int) -> bytes:
    """Whole-chunk rate conversion of PCM16 mono (agent prompts are short, whole utterances)."""
    check_pcm16(data)
    if from_rate == to_rate or not data:
        return bytes(data)
    try:
        import soxr
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise PcmError(
            f"converting agent audio {from_rate} Hz -> {to_rate} Hz needs soxr (pip install 'salesagent[speech]')"
        ) from exc
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    out = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return (np.clip(out, -1.0, 32767 / 32768) * 32768.0).astype("<i2").tobytes()
