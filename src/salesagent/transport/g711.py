"""G.711 mu-law and A-law: the standard library's ``audioop`` (C, bit-exact ITU-T G.711).

``audioop`` is deprecated in Python 3.11-3.12 and left the standard library in 3.13, where the
``audioop-lts`` package (a dependency on those versions) provides the same module. Codecs are
stateless, so the bridges call these per frame.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


class G711Error(ValueError):
    """PCM16 input with an odd byte count."""


def _check(pcm: bytes | bytearray | memoryview) -> bytes:
    if len(pcm) % 2:
        raise G711Error(f"PCM16 needs an even number of bytes, got {len(pcm)}")
    return bytes(pcm)


def ulaw_encode(pcm: bytes | bytearray | memoryview) -> bytes:
    """PCM16 little-endian -> mu-law bytes (one byte per sample)."""
    return audioop.lin2ulaw(_check(pcm), 2)


def ulaw_decode(data: bytes | bytearray | memoryview) -> bytes:
    """mu-law bytes -> PCM16 little-endian."""
    return audioop.ulaw2lin(bytes(data), 2)


def alaw_encode(pcm: bytes | bytearray | memoryview) -> bytes:
    """PCM16 little-endian -> A-law bytes."""
    return audioop.lin2alaw(_check(pcm), 2)


def alaw_decode(data: bytes | bytearray | memoryview) -> bytes:
    """A-law bytes -> PCM16 little-endian."""
    return audioop.alaw2lin(bytes(data), 2)
