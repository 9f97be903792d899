"""The final decode starts in the caller's pause, before the endpoint, and the endpoint follows
the question: with the real VAD and the real Whisper model."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.streaming import Final, StreamingTranscriber
from salesagent.speech.audio import float32_to_pcm16
from salesagent.speech.config import AsrSettings

pytestmark = pytest.mark.slow

NAME = "Меня зовут Ольга Сергеевна."
STUDY = "Мне нужно УЗИ щитовидной железы."


class CountingEngine:
    """The real engine, counting the clips it is asked to decode (seconds of audio each)."""

    def __init__(self, engine) -> None:
        self.engine, self.name = engine, engine.name
        self.clips: list[float] = []
        self._lock = threading.Lock()

    def transcribe(self, audio, prompt=None):
        with self._lock:
            self.clips.append(audio.size / 16000)
        return self.engine.transcribe(audio, prompt)


async def _run(stream: StreamingTranscriber, audio: np.ndarray) -> list:
    events: list = []

    async def collect() -> None:
        events.extend([e async for e in stream.events()])

    collector = asyncio.create_task(collect())
    pcm = float32_to_pcm16(audio)
    for i in range(0, len(pcm), 320):  # 20 ms frames, as a phone line delivers them
        stream.feed(pcm[i : i + 320])
        await asyncio.sleep(0.001)
    stream.finish()
    await asyncio.wait_for(collector, 120)
    return events


async def test_a_caller_who_stays_silent_is_decoded_once_from_the_pause(whisper_engine, caller_audio, quiet):
    engine = CountingEngine(whisper_engine)
    scheduler = DecodeScheduler(engine)
    stream = StreamingTranscriber(scheduler, sample_rate=8000, asr=AsrSettings(partials=False))
    events = await _run(stream, np.concatenate([quiet(0.3), caller_audio(NAME), quiet(1.2)]))
    await scheduler.aclose()
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 1 and "ольг" in finals[0].text.lower()
    assert len(engine.clips) == 1, "the speculative decode must be the final, not decoded twice"
    assert scheduler.stats.speculative + scheduler.stats.finals == 1


async def test_a_caller_who_goes_on_after_a_pause_gets_one_final_for_all_of_it(whisper_engine, caller_audio, quiet):
    engine = CountingEngine(whisper_engine)
    scheduler = DecodeScheduler(engine)
    stream = StreamingTranscriber(scheduler, sample_rate=8000, asr=AsrSettings(partials=False))
    first, second = caller_audio(NAME), caller_audio(STUDY)
    events = await _run(stream, np.concatenate([quiet(0.3), first, quiet(0.05), second, quiet(1.2)]))
    await scheduler.aclose()
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 1, [f.text for f in finals]
    text = finals[0].text.lower()
    assert "ольг" in text and "желез" in text, text
    # One decode started in the pause (its clip ends at the pause) and was dropped; the final's
    # decode covers both phrases.
    assert len(engine.clips) == 2 and engine.clips[0] < engine.clips[1], engine.clips
    assert engine.clips[1] >= (first.size + second.size) / 8000


async def test_the_endpoint_follows_the_question(whisper_engine, caller_audio, quiet):
    """A phone number dictated in groups: a 0.7 s pause ends the answer by default, not after
    the agent asked for the phone with a 1 s endpoint."""
    audio = np.concatenate([quiet(0.3), caller_audio("восемь девятьсот шестнадцать"), quiet(0.7),
                            caller_audio("сто двадцать три сорок пять"), quiet(1.5)])
    counts = []
    for endpoint in (None, 1000):
        scheduler = DecodeScheduler(whisper_engine)
        stream = StreamingTranscriber(scheduler, sample_rate=8000, asr=AsrSettings(partials=False))
        if endpoint is not None:
            stream.expect("Мой номер: восемь, девятьсот шестнадцать.", endpoint)
        events = await _run(stream, audio)
        await scheduler.aclose()
        counts.append(sum(isinstance(e, Final) for e in events))
    assert counts == [2, 1]


def test_the_endpoint_is_checked() -> None:
    from salesagent.speech.vad import VoiceActivityDetector

    with pytest.raises(ValueError, match="min_silence_ms"):
        VoiceActivityDetector().set_min_silence_ms(10)
