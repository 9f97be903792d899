"""SpeechSynthesizer: normaliser + engine + cache + sentence streaming, usable without HTTP.

The telephony edge holds one per process and calls :meth:`SpeechSynthesizer.stream` per reply:
the text is normalised, split into sentences, and the first sentence's audio is yielded in
``chunk_ms`` chunks while later sentences are still being synthesised in a worker thread. Each
sentence is cached separately, so a reply that starts with a prerendered phrase starts at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from salesagent.speech.audio import StreamResampler, float32_to_pcm16, pcm16_to_float32, resample_pcm16
from salesagent.speech.normalize import RussianNormalizer
from salesagent.speech.sentences import split_sentences
from salesagent.speech.tts.base import TtsEngine, pick_voice
from salesagent.speech.tts.cache import AudioCache, cache_key
from salesagent.speech.tts_config import OUTPUT_RATES

log = logging.getLogger(__name__)


class BadRequestError(ValueError):
    """A request the synthesiser cannot serve (rate, empty text); the message is for the client."""


@dataclass
class SynthStats:
    engine_calls: int = 0
    cache_hits: int = 0
    engine_seconds: float = 0.0
    audio_seconds: float = 0.0
    events: list[str] = field(default_factory=list)


class SpeechSynthesizer:
    def __init__(
        self,
        engine: TtsEngine,
        cache: AudioCache | None = None,
        normalizer: Callable[[str], str] | None = None,
        default_rate: int = 8000,
        default_voice: str | None = None,
        chunk_ms: int = 200,
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.normalize = normalizer or RussianNormalizer()
        self.default_rate = self.check_rate(default_rate)
        self.default_voice = pick_voice(engine.name, engine.voices, default_voice)
        self.chunk_ms = chunk_ms
        self.stats = SynthStats()

    # -- validation ------------------------------------------------------------------------------
    @staticmethod
    def check_rate(rate: int) -> int:
        if rate not in OUTPUT_RATES:
            raise BadRequestError(f"sample_rate must be one of {', '.join(map(str, OUTPUT_RATES))}, got {rate}")
        return rate

    def resolve(self, voice: str | None, rate: int | None) -> tuple[str, int]:
        """(voice, rate) for a request; raises UnknownVoiceError / BadRequestError."""
        chosen = pick_voice(self.engine.name, self.engine.voices, voice) if voice else self.default_voice
        return chosen, self.check_rate(rate if rate is not None else self.default_rate)

    def chunk_bytes(self, rate: int) -> int:
        return rate * self.chunk_ms // 1000 * 2

    def sentences(self, text: str) -> list[str]:
        return [s for s in split_sentences(self.normalize(text)) if re.search(r"\w", s)]

    # -- synthesis -------------------------------------------------------------------------------
    def sentence_audio(self, sentence: str, rate: int, voice: str) -> bytes:
        """PCM16 at ``rate`` for one NORMALISED sentence: from the cache, else the engine."""
        key = cache_key(self.engine.name, voice, rate, sentence)
        if self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                self.stats.cache_hits += 1
                return cached
        started = time.perf_counter()
        native = self.engine.synthesize(sentence, voice)
        pcm = resample_pcm16(native, self.engine.sample_rate, rate)
        elapsed = time.perf_counter() - started
        self.stats.engine_calls += 1
        self.stats.engine_seconds += elapsed
        self.stats.audio_seconds += len(native) / 2 / self.engine.sample_rate
        log.debug(
            "tts synthesized",
            extra={"context": {"engine": self.engine.name, "chars": len(sentence), "ms": round(elapsed * 1000)}},
        )
        if self.cache is not None and pcm:
            self.cache.put(key, pcm)
        return pcm

    def sentence_chunks(self, sentence: str, rate: int, voice: str, emit: Callable[[bytes], None]) -> None:
        """Like :meth:`sentence_audio`, but hands audio to ``emit`` as the engine makes it, when the
        engine can stream (RHVoice): the first chunk leaves in milliseconds instead of after the
        whole sentence. The sentence is still cached whole. Blocking; run it in a worker thread."""
        synthesize_chunks = getattr(self.engine, "synthesize_chunks", None)
        key = cache_key(self.engine.name, voice, rate, sentence)
        cached = self.cache.get(key) if self.cache is not None else None
        if synthesize_chunks is None or cached is not None:
            emit(self.sentence_audio(sentence, rate, voice))
            return
        started = time.perf_counter()
        resampler = StreamResampler(self.engine.sample_rate, rate, quality="HQ", any_rate=True)
        parts: list[bytes] = []
        native_bytes = 0

        def on_chunk(native: bytes) -> None:
            nonlocal native_bytes
            native_bytes += len(native)
            pcm = float32_to_pcm16(resampler.process(pcm16_to_float32(native)))
            if pcm:
                parts.append(pcm)
                emit(pcm)

        synthesize_chunks(sentence, voice, on_chunk)
        tail = float32_to_pcm16(resampler.flush())
        if tail:
            parts.append(tail)
            emit(tail)
        self.stats.engine_calls += 1
        self.stats.engine_seconds += time.perf_counter() - started
        self.stats.audio_seconds += native_bytes / 2 / self.engine.sample_rate
        if self.cache is not None and parts:
            self.cache.put(key, b"".join(parts))

    def synthesize(self, text: str, sample_rate: int | None = None, voice: str | None = None) -> bytes:
        """The whole reply as one PCM16 buffer (blocking)."""
        chosen, rate = self.resolve(voice, sample_rate)
        return b"".join(self.sentence_audio(s, rate, chosen) for s in self.sentences(text))

    async def stream(
        self, text: str, sample_rate: int | None = None, voice: str | None = None
    ) -> AsyncIterator[bytes]:
        """Yield ``chunk_ms`` PCM16 chunks; sentence N+1 is synthesised while sentence N plays, and
        with a streaming engine the first chunk goes as soon as it has ``chunk_ms`` of audio."""
        chosen, rate = self.resolve(voice, sample_rate)
        sentences = self.sentences(text)
        if not sentences:
            raise BadRequestError("text has nothing to say")
        pending: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def emit(pcm: bytes) -> None:  # from the synthesis thread
            loop.call_soon_threadsafe(pending.put_nowait, pcm)

        async def produce() -> None:
            try:
                for sentence in sentences:
                    await asyncio.to_thread(self.sentence_chunks, sentence, rate, chosen, emit)
                pending.put_nowait(None)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # handed to the consumer, raised there
                pending.put_nowait(exc)

        producer = asyncio.create_task(produce())
        size = self.chunk_bytes(rate)
        buffer = bytearray()
        try:
            while True:
                item = await pending.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                buffer += item
                while len(buffer) >= size:
                    yield bytes(buffer[:size])
                    del buffer[:size]
            if buffer:
                yield bytes(buffer)
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await producer

    def close(self) -> None:
        self.engine.close()
