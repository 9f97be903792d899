"""SpeechSynthesizer with a real festival: cache (files, Redis), sentence streaming, prerender."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid

import pytest

from salesagent.speech.sentences import split_sentences
from salesagent.speech.tts.audio import rms_dbfs
from salesagent.speech.tts.cache import FileCache, LayeredCache, RedisCache, cache_key
from salesagent.speech.tts.festival import FestivalEngine
from salesagent.speech.tts.prerender import frequent_phrases, prerender
from salesagent.speech.tts.synthesizer import BadRequestError, SpeechSynthesizer

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


class CountingEngine:
    """A REAL engine with a counter in front: every call reaches festival and is recorded."""

    def __init__(self, inner, gate: threading.Event | None = None, log: list | None = None) -> None:
        self.inner, self.gate, self.log = inner, gate, log if log is not None else []
        self.name, self.sample_rate, self.voices = inner.name, inner.sample_rate, inner.voices
        self.calls: list[str] = []
        self.gate_timeouts = 0

    def synthesize(self, text: str, voice: str | None = None) -> bytes:
        index = len(self.calls)
        self.calls.append(text)
        if self.gate is not None and index > 0 and not self.gate.wait(timeout=15):
            self.gate_timeouts += 1
        self.log.append(("start", index))
        pcm = self.inner.synthesize(text, voice)
        self.log.append(("end", index))
        return pcm

    def close(self) -> None:
        """The shared festival pool is closed by its fixture."""


@pytest.fixture(scope="module")
def festival():
    engine = FestivalEngine(pool_size=1)
    yield engine
    engine.close()


def _file_synth(festival, tmp_path, **kw) -> tuple[SpeechSynthesizer, CountingEngine]:
    engine = CountingEngine(festival, **kw)
    return SpeechSynthesizer(engine, cache=LayeredCache([FileCache(tmp_path / "tts-cache")])), engine


def test_cache_hit_returns_identical_bytes_without_calling_the_engine(festival, tmp_path) -> None:
    synth, engine = _file_synth(festival, tmp_path)
    first = synth.synthesize("Записываю вас на МРТ. Верно?", 8000)
    assert len(engine.calls) == 2 and rms_dbfs(first) > -35
    second = synth.synthesize("Записываю вас на МРТ. Верно?", 8000)
    assert second == first
    assert len(engine.calls) == 2
    # another process with the same cache folder is served from the files, too
    other, other_engine = _file_synth(festival, tmp_path)
    assert other.synthesize("Записываю вас на МРТ. Верно?", 8000) == first
    assert other_engine.calls == []


def test_cache_key_separates_rate_voice_engine_and_uses_normalised_text(festival, tmp_path) -> None:
    synth, engine = _file_synth(festival, tmp_path)
    narrow = synth.synthesize("Это стоит 4500 руб.", 8000)
    wide = synth.synthesize("Это стоит 4500 руб.", 16000)
    assert len(engine.calls) == 2 and len(wide) == pytest.approx(2 * len(narrow), rel=0.01)
    # a different spelling with the same spoken words is the same entry
    assert synth.synthesize("Это стоит 4500 рублей.", 8000) == narrow
    assert len(engine.calls) == 2
    keys = {cache_key(e, v, r, "да") for e, v, r in [("festival", "a", 8000), ("espeak", "a", 8000),
                                                      ("festival", "b", 8000), ("festival", "a", 16000)]}
    assert len(keys) == 4


@pytest.mark.redis
def test_redis_cache_shares_audio_between_processes_with_one_hour_ttl(festival, tmp_path) -> None:
    prefix = f"salesagent:tts-test:{uuid.uuid4().hex}:"
    redis_a = RedisCache(REDIS_URL, ttl_s=3600, prefix=prefix)
    try:
        engine_a = CountingEngine(festival)
        synth_a = SpeechSynthesizer(engine_a, cache=LayeredCache([redis_a, FileCache(tmp_path / "a")]))
        audio = synth_a.synthesize("Ждём вас, до свидания!", 8000)
        key = cache_key("festival", "msu_ru_nsh", 8000, synth_a.sentences("Ждём вас, до свидания!")[0])
        assert 3590 <= redis_a.ttl(key) <= 3600
        # a second gateway replica: empty file cache, same Redis -> no synthesis
        engine_b = CountingEngine(festival)
        redis_b = RedisCache(REDIS_URL, ttl_s=3600, prefix=prefix)
        synth_b = SpeechSynthesizer(engine_b, cache=LayeredCache([redis_b, FileCache(tmp_path / "b")]))
        assert synth_b.synthesize("Ждём вас, до свидания!", 8000) == audio
        assert engine_b.calls == []
    finally:
        for k in redis_a.client.scan_iter(prefix + "*"):
            redis_a.client.delete(k)


async def test_stream_yields_first_chunk_before_the_last_sentence_is_synthesised(festival, tmp_path) -> None:
    events: list[tuple[str, int]] = []
    gate = threading.Event()
    synth, engine = _file_synth(festival, tmp_path, gate=gate, log=events)
    text = "Здравствуйте! Меня зовут Анна. Чем могу помочь? Записываю вас на МРТ коленного сустава."
    chunks = []
    async for chunk in synth.stream(text, 8000):
        if not chunks:
            events.append(("chunk", 0))
            gate.set()  # later sentences may only start once the first chunk is out
        chunks.append(chunk)
    assert engine.gate_timeouts == 0, "sentence 2 was synthesised before the first chunk was yielded"
    assert len(engine.calls) == 4
    assert events.index(("chunk", 0)) < events.index(("end", 3))
    assert events.index(("chunk", 0)) < events.index(("start", 1))
    size = 8000 * 200 // 1000 * 2
    assert all(len(c) == size for c in chunks[:-1]) and 0 < len(chunks[-1]) <= size
    assert rms_dbfs(b"".join(chunks)) > -35


async def test_stream_of_cached_text_equals_synthesize(festival, tmp_path) -> None:
    synth, _ = _file_synth(festival, tmp_path)
    whole = synth.synthesize("Хорошо. Вернёмся к записи.", 16000)
    streamed = b"".join([c async for c in synth.stream("Хорошо. Вернёмся к записи.", 16000)])
    assert streamed == whole


async def test_stream_rejects_bad_rate_and_empty_text(festival, tmp_path) -> None:
    synth, _ = _file_synth(festival, tmp_path)
    with pytest.raises(BadRequestError, match="sample_rate"):
        await anext(synth.stream("Да.", 44100))
    with pytest.raises(BadRequestError, match="nothing to say"):
        await anext(synth.stream("   ", 8000))


async def test_stream_stops_synthesis_when_the_listener_hangs_up(festival, tmp_path) -> None:
    synth, engine = _file_synth(festival, tmp_path)
    text = " ".join(f"Предложение номер {n}." for n in range(1, 13))
    stream = synth.stream(text, 8000)
    await anext(stream)
    await stream.aclose()
    await asyncio.sleep(0.5)
    assert len(engine.calls) < 12


def test_split_sentences_keeps_order_and_limits_length() -> None:
    assert split_sentences("Да. Нет! Может быть? Хорошо") == ["Да.", "Нет!", "Может быть?", "Хорошо"]
    long = ", ".join(["очень длинная часть фразы"] * 30) + "."
    pieces = split_sentences(long, max_chars=100)
    assert all(len(p) <= 100 for p in pieces) and " ".join(pieces) == long


def test_frequent_phrases_are_fixed_clinic_texts(profile) -> None:
    phrases = frequent_phrases(profile, 30)
    assert 20 <= len(phrases) <= 30
    assert phrases[0].startswith("Здравствуйте") and profile.clinic.agent_name in phrases[0]
    assert any(profile.clinic.address in p for p in phrases)
    assert all("{" not in p for p in phrases)
    assert len(set(phrases)) == len(phrases)


@pytest.mark.slow
async def test_prerender_makes_the_greeting_start_from_the_cache(festival, tmp_path, profile) -> None:
    synth, engine = _file_synth(festival, tmp_path)
    report = prerender(synth, profile, 30)
    assert report.phrases >= 20 and report.synthesized == len(engine.calls) > 0
    again = prerender(synth, profile, 30)
    assert again.synthesized == 0 and again.cached == report.sentences
    live, live_engine = _file_synth(festival, tmp_path)
    greeting = frequent_phrases(profile, 1)[0]
    audio = b"".join([c async for c in live.stream(greeting, 8000)])
    assert live_engine.calls == [] and rms_dbfs(audio) > -35
