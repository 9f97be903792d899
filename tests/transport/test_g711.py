"""G.711 (audioop) against known values of the reference code and a round trip at telephone quality."""

from __future__ import annotations

import numpy as np
import pytest

from salesagent.transport import g711


def pcm(*samples: int) -> bytes:
    return np.array(samples, dtype="<i2").tobytes()


def test_ulaw_known_values() -> None:
    # Silence is 0xFF; full scale saturates at 0x80 / 0x00; -1 rounds to 0x7E (the reference code
    # shifts before folding the sign); decoder extremes are +-32124.
    assert g711.ulaw_encode(pcm(0, 32767, -32768, -1)) == bytes([0xFF, 0x80, 0x00, 0x7E])
    assert g711.ulaw_decode(bytes([0xFF, 0x7F, 0x80, 0x00])) == pcm(0, 0, 32124, -32124)


def test_alaw_known_values() -> None:
    # A-law inverts even bits (0x55): zero is 0xD5, smallest negative 0x55, decoder extremes +-32256.
    assert g711.alaw_encode(pcm(0, -1, 32767, -32768)) == bytes([0xD5, 0x55, 0xAA, 0x2A])
    assert g711.alaw_decode(bytes([0xD5, 0x55, 0xAA, 0x2A])) == pcm(8, -8, 32256, -32256)


@pytest.mark.parametrize(("encode", "decode"), [(g711.ulaw_encode, g711.ulaw_decode),
                                                (g711.alaw_encode, g711.alaw_decode)])
def test_sine_round_trip_has_telephone_quality(encode, decode) -> None:
    x = np.round(12000 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype("<i2")
    y = np.frombuffer(decode(encode(x.tobytes())), dtype="<i2").astype(np.float64)
    snr_db = 10 * np.log10(np.sum(x.astype(np.float64) ** 2) / np.sum((y - x) ** 2))
    assert snr_db > 33


def test_odd_pcm_is_rejected() -> None:
    with pytest.raises(g711.G711Error, match="even number of bytes"):
        g711.ulaw_encode(b"\x00\x01\x02")
