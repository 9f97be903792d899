"""Small PCM16 helpers the bridges share: validation and de-interleaving. Rate conversion is
:func:`salesagent.speech.audio.resample_pcm16` (soxr, imported only when a rate has to change)."""

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
