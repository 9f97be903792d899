"""An answer already complete ends the caller's turn before the endpoint; anything else waits it
out. Real Silero VAD, real Whisper base, real-time pacing (the speculative decode races the pause)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.streaming import Final, StreamingTranscriber
from salesagent.speech.audio import float32_to_pcm16
from salesagent.speech.config import AsrSettings, VadSettings
from salesagent.speech.vad import SpeechEnded, VoiceActivityDetector

ENDPOINT_MS = 2500  # long, so that an early end cannot be mistaken for the endpoint even on a loaded CI


def _trim(audio: np.ndarray) -> np.ndarray:
    loud = np.nonzero(np.abs(audio) > 0.01)[0]
    return audio[loud[0] : loud[-1] + 1]


async def _paced(stream: StreamingTranscriber, audio: np.ndarray) -> list:
    """20 ms frames at the pace a phone line delivers them; the events in order."""
    events: list = []

    async def collect() -> None:
        events.extend([e async for e in stream.events()])

    collector = asyncio.create_task(collect())
    pcm = float32_to_pcm16(audio)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n, i in enumerate(range(0, len(pcm), 320)):
        stream.feed(pcm[i : i + 320])
        await asyncio.sleep(max(0.0, start + (n + 1) * 0.02 - loop.time()))
    stream.finish()
    await asyncio.wait_for(collector, 60)
    return events


def _pause_before_end(events: list) -> float:
    ends = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(ends) == 1, ends
    return ends[0].detected_at - ends[0].end


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_complete_answer_ends_the_turn_before_the_endpoint(whisper_engine, caller_audio, quiet):
    audio = np.concatenate([quiet(0.3), _trim(caller_audio("Да, конечно.")), quiet(4.0)])
    pauses, heard = [], []
    for complete in (lambda text: "да" in text.lower(), lambda text: False):
        scheduler = DecodeScheduler(whisper_engine)
        stream = StreamingTranscriber(scheduler, sample_rate=8000, asr=AsrSettings(partials=False))
        stream.expect(None, ENDPOINT_MS, complete)
        events = await _paced(stream, audio)
        await scheduler.aclose()
        pauses.append(_pause_before_end(events))
        heard.append([e.text for e in events if isinstance(e, Final)])
    early, full = pauses
    assert full >= ENDPOINT_MS / 1000 - 0.05, "an answer the check does not accept waits the whole endpoint"
    assert early < ENDPOINT_MS / 1000 - 0.5, f"the complete answer still waited {early:.2f} s"
    assert early >= AsrSettings().answer_complete_silence_ms / 1000 - 0.05
    assert heard[0] == heard[1] and len(heard[0]) == 1, heard  # the same one final either way


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_caller_who_goes_on_is_not_cut_by_an_earlier_complete_answer(whisper_engine, caller_audio, quiet):
    """"Да." then a short breath and more words: the early end is for that pause only."""
    audio = np.concatenate([quiet(0.3), _trim(caller_audio("Да.")), quiet(0.15),
                            _trim(caller_audio("Но у меня есть вопрос о цене.")), quiet(3.5)])
    scheduler = DecodeScheduler(whisper_engine)
    stream = StreamingTranscriber(scheduler, sample_rate=8000, asr=AsrSettings(partials=False))
    stream.expect(None, ENDPOINT_MS, lambda text: "да" in text.lower())  # "Да" alone would pass
    events = await _paced(stream, audio)
    await scheduler.aclose()
    finals = [e.text.lower() for e in events if isinstance(e, Final)]
    assert len(finals) == 1 and "вопрос" in finals[0], finals


def test_the_shorter_pause_is_forgotten_when_the_caller_speaks_again(caller_audio, quiet) -> None:
    """VAD alone: a pause allowed to end early, then speech again: the next pause waits the full
    min_silence; a pause allowed to end early with no speech after it ends at once."""
    speech = _trim(caller_audio("Меня зовут Ольга.", rate=16000, telephone=False))
    vad = VoiceActivityDetector(VadSettings(min_silence_ms=1500))
    assert not [e for e in vad.process(np.concatenate([quiet(0.3, 16000), speech])) if isinstance(e, SpeechEnded)]
    vad.process(quiet(0.2, 16000))
    vad.end_pause_after(16000 * 3 // 10)
    resumed = vad.process(np.concatenate([speech, quiet(1.0, 16000)]))
    assert not [e for e in resumed if isinstance(e, SpeechEnded)], "speech came back before 0.3 s of pause"
    assert [e for e in vad.process(quiet(0.6, 16000)) if isinstance(e, SpeechEnded)], "the full 1.5 s ends it"
    vad.process(np.concatenate([speech, quiet(0.2, 16000)]))
    vad.end_pause_after(16000 // 10)  # 0.1 s: the pause has already lasted longer
    ended = [e for e in vad.process(quiet(0.04, 16000)) if isinstance(e, SpeechEnded)]
    assert ended and ended[0].detected_at - ended[0].end < 0.3
