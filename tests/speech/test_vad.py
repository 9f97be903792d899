"""Silero VAD on real (synthetic-caller) speech, silence and line noise, at 8 and 16 kHz."""

from __future__ import annotations

import numpy as np
import pytest

from salesagent.speech.audio import (
    AudioFormatError,
    RollingAudio,
    StreamResampler,
    float32_to_pcm16,
    pcm16_to_float32,
    resample,
)
from salesagent.speech.config import VadSettings
from salesagent.speech.vad import SpeechEnded, SpeechStarted, VoiceActivityDetector, speech_segments

PHRASE = "Здравствуйте, я хочу записаться на МРТ коленного сустава в пятницу."


def _voiced_bounds(audio: np.ndarray, rate: int) -> tuple[float, float]:
    """Where the synthetic caller's signal is audible (20 ms frames above -40 dBFS), in seconds."""
    frame = rate // 50
    n = audio.size // frame
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1))
    loud = np.nonzero(rms > 0.01)[0]
    return loud[0] * frame / rate, (loud[-1] + 1) * frame / rate


def _trimmed(audio: np.ndarray, rate: int) -> np.ndarray:
    """Cut festival's own leading/trailing silence so gaps between phrases are what the test says."""
    on, off = _voiced_bounds(audio, rate)
    return audio[int(on * rate) : int(off * rate)]


@pytest.mark.parametrize("rate", [8000, 16000])
def test_finds_the_one_utterance_in_speech(caller_audio, quiet, rate):
    speech = caller_audio(PHRASE, rate=rate, telephone=rate == 8000)
    audio = np.concatenate([quiet(1.0, rate), speech, quiet(1.0, rate)])
    on, off = _voiced_bounds(audio, rate)
    segments = speech_segments(resample(audio, rate))
    assert len(segments) == 1, segments
    start, end = segments[0]
    assert on - 0.15 <= start <= on + 0.3
    assert off - 0.4 <= end <= off + 0.3


@pytest.mark.parametrize("rate", [8000, 16000])
def test_no_speech_in_silence(quiet, rate):
    assert speech_segments(resample(quiet(5.0, rate), rate)) == []


@pytest.mark.parametrize("level_db", [-40.0, -30.0, -20.0])
def test_no_speech_in_line_noise(noise, level_db):
    audio = resample(noise(6.0, 8000, level_db=level_db), 8000)
    assert speech_segments(audio) == []


def test_speech_found_inside_noise(caller_audio, noise):
    speech = caller_audio(PHRASE)
    bed = noise(speech.size / 8000 + 2.0, 8000, level_db=-35.0)
    bed[8000 : 8000 + speech.size] += speech
    segments = speech_segments(resample(bed, 8000))
    assert len(segments) == 1
    assert 0.9 <= segments[0][0] <= 1.5


def test_pause_shorter_than_min_silence_keeps_one_utterance(caller_audio, quiet):
    a = _trimmed(caller_audio("Меня зовут Иван Петров.", rate=16000, telephone=False), 16000)
    b = _trimmed(caller_audio("Я хочу записаться на приём.", rate=16000, telephone=False), 16000)
    short_gap = np.concatenate([quiet(0.5, 16000), a, quiet(0.25, 16000), b, quiet(1.0, 16000)])
    long_gap = np.concatenate([quiet(0.5, 16000), a, quiet(1.2, 16000), b, quiet(1.0, 16000)])
    settings = VadSettings(min_silence_ms=500)
    assert len(speech_segments(short_gap, settings)) == 1
    assert len(speech_segments(long_gap, settings)) == 2


def test_streaming_in_odd_chunks_equals_one_shot(caller_audio, quiet):
    audio = resample(np.concatenate([quiet(0.7), caller_audio(PHRASE), quiet(0.8)]), 8000)
    one_shot = VoiceActivityDetector()
    expected = one_shot.process(audio) + one_shot.finish()
    streamed = VoiceActivityDetector()
    rng = np.random.default_rng(3)
    got, pos = [], 0
    while pos < audio.size:
        step = int(rng.integers(1, 2000))
        got += streamed.process(audio[pos : pos + step])
        pos += step
    got += streamed.finish()
    assert got == expected
    assert [type(e) for e in got] == [SpeechStarted, SpeechEnded]


def test_events_carry_timing_for_barge_in(caller_audio, quiet):
    settings = VadSettings(min_speech_ms=96, min_silence_ms=400)
    vad = VoiceActivityDetector(settings)
    events = vad.process(resample(np.concatenate([quiet(1.0), caller_audio(PHRASE), quiet(1.0)]), 8000))
    started, ended = events
    assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
    # Started fires once min_speech_ms of speech is seen, not at the end of the phrase.
    assert 0.096 <= started.detected_at - started.start <= 0.25
    assert ended.detected_at - ended.end == pytest.approx(0.4, abs=0.033)
    assert ended.start == started.start and ended.end > started.start + 1.0


def test_vad_settings_are_validated():
    with pytest.raises(ValueError, match="NEG_THRESHOLD"):
        VadSettings(threshold=0.3, neg_threshold=0.5)
    assert VadSettings(threshold=0.6).neg_threshold == pytest.approx(0.45)


def test_pcm16_helpers_round_trip_and_reject_odd_bytes():
    samples = np.array([0.0, 0.5, -0.5, 0.999], dtype=np.float32)
    back = pcm16_to_float32(float32_to_pcm16(samples))
    assert np.allclose(back, samples, atol=1 / 32768)
    with pytest.raises(AudioFormatError, match="even number of bytes"):
        pcm16_to_float32(b"\x00\x01\x02")


def test_stream_resampler_matches_whole_clip_length_and_tone():
    tone = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)
    stream = StreamResampler(8000)
    parts = [stream.process(tone[i : i + 160]) for i in range(0, tone.size, 160)]
    out = np.concatenate([*parts, stream.flush()])
    assert out.size == 16000
    spectrum = np.abs(np.fft.rfft(out[2000:14000]))
    assert abs(np.argmax(spectrum) * 16000 / 12000 - 440) < 3
    with pytest.raises(AudioFormatError):
        StreamResampler(44100)


def test_rolling_audio_keeps_absolute_positions():
    ring = RollingAudio()
    ring.append(np.arange(100, dtype=np.float32))
    ring.append(np.arange(100, 250, dtype=np.float32))
    ring.trim_before(120)
    assert ring.start == 120 and ring.end == 250
    assert ring.slice(100, 125).tolist() == [120.0, 121.0, 122.0, 123.0, 124.0]
    assert ring.slice(240, 400).tolist() == [float(v) for v in range(240, 250)]
