"""Build the configured engine, cache and synthesiser from :class:`TtsSettings`."""

from __future__ import annotations

import logging

from salesagent.speech.tts.base import TtsEngine, TtsError
from salesagent.speech.tts.cache import AudioCache, FileCache, LayeredCache, RedisCache
from salesagent.speech.tts.synthesizer import SpeechSynthesizer
from salesagent.speech.tts_config import TtsSettings

log = logging.getLogger(__name__)


def build_engine(settings: TtsSettings) -> TtsEngine:
    if settings.engine == "rhvoice":
        from salesagent.speech.tts.rhvoice import RHVoiceEngine

        return RHVoiceEngine(settings.rhvoice_library, settings.rhvoice_data, settings.rhvoice_rate)
    if settings.engine == "festival":
        from salesagent.speech.tts.festival import FestivalEngine

        return FestivalEngine(settings.festival_bin, settings.festival_pool, settings.festival_timeout_s)
    if settings.engine == "espeak":
        from salesagent.speech.tts.espeak import EspeakEngine

        return EspeakEngine(settings.espeak_bin, settings.espeak_speed_wpm)
    from salesagent.speech.tts.piper import PiperEngine

    assert settings.piper_model is not None  # checked by TtsSettings
    return PiperEngine(settings.piper_model, settings.piper_length_scale)


def build_cache(settings: TtsSettings) -> AudioCache | None:
    layers: list[AudioCache] = []
    if settings.redis_cache:
        import redis

        try:
            layers.append(RedisCache(settings.redis_url, settings.redis_ttl_s))
        except redis.RedisError as exc:
            raise TtsError(f"SALESAGENT_TTS_REDIS_CACHE is on but Redis at REDIS_URL does not answer: {exc}") from exc
    if settings.file_cache:
        layers.append(FileCache(settings.resolved_cache_dir()))
    return LayeredCache(layers) if layers else None


def build_synthesizer(settings: TtsSettings, engine: TtsEngine | None = None) -> SpeechSynthesizer:
    engine = engine or build_engine(settings)
    return SpeechSynthesizer(
        engine,
        cache=build_cache(settings),
        default_rate=settings.sample_rate,
        default_voice=settings.voice,
        chunk_ms=settings.chunk_ms,
    )
