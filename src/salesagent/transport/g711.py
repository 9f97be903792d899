"""G.711 mu-law and A-law with numpy lookup tables.

``audioop`` is deprecated and gone in Python 3.13, and Twilio speaks mu-law, so the codec lives
here: decoding is one 256-entry table lookup, encoding one 65536-entry table lookup indexed by the
16-bit sample itself (128 KiB per law, built once on import). The tables follow ITU-T G.711 as
implemented by the reference code (Sun's g711.c), so results match ``audioop`` bit for bit.
"""

from __future__ import annotations

import numpy as np

_BIAS = 0x84
_ULAW_CLIP = 8159


def _ulaw_encode_scalar(sample: int) -> int:
    # 14-bit magnitude as in the reference code: shift first (floors negatives), then fold the sign.
    pcm = sample >> 2
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, _ULAW_CLIP) + (_BIAS >> 2)
    segment_ends = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
    segment = next((i for i, end in enumerate(segment_ends) if pcm <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((pcm >> (segment + 1)) & 0x0F)) ^ mask


def _ulaw_decode_scalar(code: int) -> int:
    code = ~code & 0xFF
    sign, exponent, mantissa = code & 0x80, (code >> 4) & 0x07, code & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return -magnitude if sign else magnitude


def _alaw_encode_scalar(sample: int) -> int:
    # A-law works on 13-bit magnitudes; the reference code drops the 3 low bits first.
    if sample >= 0:
        mask, pcm = 0xD5, sample >> 3
    else:
        mask, pcm = 0x55, (-sample - 1) >> 3
    segment_ends = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
    segment = next((i for i, end in enumerate(segment_ends) if pcm <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    code = segment << 4
    code |= (pcm >> 1) & 0x0F if segment < 2 else (pcm >> segment) & 0x0F
    return code ^ mask


def _alaw_decode_scalar(code: int) -> int:
    code ^= 0x55
    value = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        value += 8
    elif segment == 1:
        value += 0x108
    else:
        value = (value + 0x108) << (segment - 1)
    return value if code & 0x80 else -value


_ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int32)
ULAW_DECODE = np.array([_ulaw_decode_scalar(c) for c in range(256)], dtype="<i2")
ALAW_DECODE = np.array([_alaw_decode_scalar(c) for c in range(256)], dtype="<i2")
# Indexed by (sample + 32768).
ULAW_ENCODE = np.array([_ulaw_encode_scalar(int(s)) for s in _ALL_SAMPLES], dtype=np.uint8)
ALAW_ENCODE = np.array([_alaw_encode_scalar(int(s)) for s in _ALL_SAMPLES], dtype=np.uint8)
del _ALL_SAMPLES


class G711Error(ValueError):
    """PCM16 input with an odd byte count."""


def _pcm_index(pcm: bytes | bytearray | memoryview) -> np.ndarray:
    if len(pcm) % 2:
        raise G711Error(f"PCM16 needs an even number of bytes, got {len(pcm)}")
    return np.frombuffer(pcm, dtype="<i2").astype(np.int32) + 32768


def ulaw_encode(pcm: bytes | bytearray | memoryview) -> bytes:
    """PCM16 little-endian -> mu-law bytes (one byte per sample)."""
    return ULAW_ENCODE[_pcm_index(pcm)].tobytes()


def ulaw_decode(data: bytes | bytearray | memoryview) -> bytes:
    """mu-law bytes -> PCM16 little-endian."""
    return ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)].tobytes()


def alaw_encode(pcm: bytes | bytearray | memoryview) -> bytes:
    """PCM16 little-endian -> A-law bytes."""
    return ALAW_ENCODE[_pcm_index(pcm)].tobytes()


def alaw_decode(data: bytes | bytearray | memoryview) -> bytes:
    """A-law bytes -> PCM16 little-endian."""
    return ALAW_DECODE[np.frombuffer(data, dtype=np.uint8)].tobytes()
