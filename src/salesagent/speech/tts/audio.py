"""PCM16 helpers for the voice: WAV parsing and the streaming WAV header."""

from __future__ import annotations

import struct

import numpy as np


def wav_to_pcm16(data: bytes) -> tuple[bytes, int]:
    """(PCM16 mono bytes, rate) from a RIFF WAV; tolerates the 0xFFFFFFFF sizes of piped WAVs."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    pos, rate, channels, bits = 12, 0, 0, 0
    while pos + 8 <= len(data):
        chunk_id, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            _fmt, channels, rate, _br, _align, bits = struct.unpack("<HHIIHH", data[body:body + 16])
        elif chunk_id == b"data":
            pcm = data[body:] if size in (0, 0xFFFFFFFF, 0x7FFFFFFF) or body + size > len(data) else data[
                body:body + size]
            if bits != 16 or channels != 1:
                raise ValueError(f"expected 16-bit mono WAV, got {bits}-bit with {channels} channels")
            return pcm[: len(pcm) - len(pcm) % 2], rate
        pos = body + size + (size & 1)
    raise ValueError("WAV has no data chunk")


def wav_header(sample_rate: int, data_bytes: int | None = None) -> bytes:
    """A 44-byte PCM16 mono WAV header; unknown length (streaming) is written as 0xFFFFFFFF."""
    data_size = 0xFFFFFFFF if data_bytes is None else data_bytes
    riff_size = 0xFFFFFFFF if data_bytes is None else 36 + data_bytes
    return (
        b"RIFF" + struct.pack("<I", riff_size) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data" + struct.pack("<I", data_size)
    )


def rms_dbfs(pcm: bytes) -> float:
    """Loudness of PCM16 in dB full scale (-inf for digital silence)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    if samples.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(samples**2)))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")
