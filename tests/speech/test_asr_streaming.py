"""StreamingTranscriber + DecodeScheduler with the real VAD and the real Whisper model."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.streaming import Final, Partial, StreamingTranscriber
from salesagent.speech.audio import float32_to_pcm16, resample
from salesagent.speech.config import AsrSettings
from salesagent.speech.vad import SpeechEnded, SpeechStarted

pytestmark = pytest.mark.slow

FIRST = "Здравствуйте, я хочу записаться на МРТ коленного сустава."
SECOND = "Меня зовут Иван Петров."


async def _collect(stream: StreamingTranscriber) -> list:
    return [event async for event in stream.events()]


def _frames(audio: np.ndarray, frame_bytes: int = 320) -> list[bytes]:
    pcm = float32_to_pcm16(audio)
    return [pcm[i : i + frame_bytes] for i in range(0, len(pcm), frame_bytes)]


async def test_two_utterances_at_8khz_give_ordered_events(whisper_engine, caller_audio, quiet, noise, clinic_prompt):
    first, second = caller_audio(FIRST), caller_audio(SECOND)
    audio = np.concatenate([quiet(0.5), first, quiet(1.0), noise(1.0, level_db=-35), second, quiet(1.0)])
    scheduler = DecodeScheduler(whisper_engine)
    stream = StreamingTranscriber(scheduler, sample_rate=8000, prompt=clinic_prompt, asr=AsrSettings(partials=False))
    collector = asyncio.create_task(_collect(stream))
    vad_events = []
    for frame in _frames(audio):
        vad_events += stream.feed(frame)
        await asyncio.sleep(0)
    stream.finish()
    events = await asyncio.wait_for(collector, 120)
    await scheduler.aclose()

    kinds = [type(e).__name__ for e in events]
    assert kinds.count("Final") == 2 and kinds.count("SpeechStarted") == 2, kinds
    assert [type(e) for e in vad_events] == [SpeechStarted, SpeechEnded, SpeechStarted, SpeechEnded]
    finals = [e for e in events if isinstance(e, Final)]
    assert "запис" in finals[0].text.lower() and "петров" in finals[1].text.lower()
    # Timestamps are in stream seconds: the first phrase starts after 0.5 s of silence.
    second_starts = 0.5 + first.size / 8000 + 2.0
    assert 0.5 <= finals[0].start < 1.0 < finals[0].end < second_starts <= finals[1].start + 0.4
    assert finals[1].end <= audio.size / 8000
    assert all(0.0 < f.confidence <= 1.0 for f in finals)
    # Each final comes after its SpeechEnded.
    assert events.index(finals[0]) > kinds.index("SpeechEnded")


async def test_partials_while_speaking_then_final(whisper_engine, caller_audio, quiet, clinic_prompt):
    speech = caller_audio(FIRST, rate=16000, telephone=False)
    scheduler = DecodeScheduler(whisper_engine)
    stream = StreamingTranscriber(
        scheduler, sample_rate=16000, prompt=clinic_prompt, asr=AsrSettings(partial_interval_ms=500)
    )
    seen: list = []
    stream.on_event = seen.append
    frames = _frames(np.concatenate([quiet(0.3, 16000), speech]), 640)
    cut = len(frames) // 2  # mid-phrase: the caller is talking
    for frame in frames[:cut]:
        stream.feed(frame)
    for _ in range(600):  # wait (at most 60 s) for the partial of the first half
        if any(isinstance(e, Partial) for e in seen):
            break
        await asyncio.sleep(0.1)
    partial = next(e for e in seen if isinstance(e, Partial))
    assert partial.text and partial.end <= cut * 640 / 2 / 16000 + 0.01
    for frame in frames[cut:] + _frames(quiet(1.0, 16000), 640):
        stream.feed(frame)
    await stream.aclose()
    final = next(e for e in seen if isinstance(e, Final))
    assert "сустав" in final.text.lower()
    after_final = seen[seen.index(final) :]
    assert not any(isinstance(e, Partial) for e in after_final)
    await scheduler.aclose()


async def test_silence_and_noise_produce_no_events(whisper_engine, quiet, noise):
    scheduler = DecodeScheduler(whisper_engine)
    stream = StreamingTranscriber(scheduler, sample_rate=8000)
    collector = asyncio.create_task(_collect(stream))
    for frame in _frames(np.concatenate([quiet(2.0), noise(3.0, level_db=-25), quiet(1.0)]), 1600):
        stream.feed(frame)
    stream.finish()
    assert await asyncio.wait_for(collector, 30) == []
    assert scheduler.stats.finals == 0 and scheduler.stats.partials == 0
    await scheduler.aclose()


async def test_long_monologue_is_cut_into_finals(whisper_engine, caller_audio, quiet):
    speech = np.concatenate([caller_audio(FIRST), caller_audio(SECOND)])
    scheduler = DecodeScheduler(whisper_engine)
    stream = StreamingTranscriber(scheduler, sample_rate=8000, asr=AsrSettings(max_utterance_s=2.0, partials=False))
    collector = asyncio.create_task(_collect(stream))
    for frame in _frames(np.concatenate([quiet(0.3), speech, quiet(1.0)]), 640):
        stream.feed(frame)
    stream.finish()
    finals = [e for e in await asyncio.wait_for(collector, 120) if isinstance(e, Final)]
    assert len(finals) >= 3
    assert all(b.start >= a.end - 0.01 for a, b in itertools.pairwise(finals))
    assert all(f.end - f.start <= 2.05 for f in finals[:-1])
    await scheduler.aclose()


async def test_scheduler_runs_finals_first_and_replaces_stale_partials(whisper_engine, caller_audio):
    clip = resample(caller_audio(SECOND), 8000)
    scheduler = DecodeScheduler(whisper_engine, workers=1)
    order: list[str] = []

    def track(name, fut):
        fut.add_done_callback(lambda f: order.append(name if f.result() is not None else f"{name}:dropped"))
        return fut

    busy = track("busy", scheduler.submit_partial("a", clip))
    await asyncio.sleep(0.05)  # the only worker takes it
    stale = track("stale", scheduler.submit_partial("b", clip))
    fresh = track("fresh", scheduler.submit_partial("b", clip))
    final = track("final", scheduler.submit_final("c", clip))
    await asyncio.wait_for(asyncio.gather(busy, stale, fresh, final), 120)
    assert order == ["stale:dropped", "busy", "final", "fresh"]
    assert scheduler.stats.partials_replaced == 1
    assert "петров" in (await final).text.lower()
    # A final for a stream drops that stream's queued partial.
    blocker = scheduler.submit_final("x", clip)
    queued = scheduler.submit_partial("y", clip)
    final_y = scheduler.submit_final("y", clip)
    assert await queued is None
    assert (await final_y).text and (await blocker).text
    await scheduler.aclose()


async def test_feed_rejects_odd_bytes_and_bad_rate(whisper_engine):
    from salesagent.speech.audio import AudioFormatError

    scheduler = DecodeScheduler(whisper_engine)
    with pytest.raises(AudioFormatError):
        StreamingTranscriber(scheduler, sample_rate=44100)
    stream = StreamingTranscriber(scheduler, sample_rate=8000)
    with pytest.raises(AudioFormatError, match="even number of bytes"):
        stream.feed(b"\x01\x02\x03")
    await scheduler.aclose()
