"""ASR "ears" benchmark: VAD cost, ASR real-time factor, partial and final latency, as one table.

    .venv/bin/python bench/bench_asr.py                       # Whisper base int8 on this CPU
    .venv/bin/python bench/bench_asr.py --device cuda --model-path /models/large-v3-turbo-ct2

Speech is synthetic callers (festival + sox, 8 kHz telephone band), or your own mono PCM16 WAVs
(``--wav a.wav b.wav``). Streaming is paced in real time (20 ms frames), so latencies are wall
clock as a caller would see them: partial = event time - time the audio it covers was fed; final
= event time - time the last speech frame was fed (includes the ``min_silence_ms`` endpoint wait).
Timings on a shared host are noisy; this prints a table for the docs and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from salesagent.speech.asr.prompt import vocabulary_prompt
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.streaming import Final, Partial, StreamingTranscriber
from salesagent.speech.asr.whisper import AsrConfigError, FasterWhisperEngine
from salesagent.speech.audio import float32_to_pcm16, resample
from salesagent.speech.config import AsrSettings, VadSettings
from salesagent.speech.vad import WINDOW_SAMPLES, VoiceActivityDetector

PHRASES = [
    "Здравствуйте, я хочу записаться на МРТ коленного сустава в пятницу.",
    "Меня зовут Иван Петров, мне сорок два года.",
    "Сколько стоит компьютерная томография головного мозга?",
    "Запишите меня на двадцать пятое ноября в десять часов.",
]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load_clips(args: argparse.Namespace) -> list[tuple[np.ndarray, int]]:
    if args.wav:
        from salesagent.speech.asr.caller_voice import read_wav

        return [read_wav(Path(p)) for p in args.wav]
    from salesagent.speech.asr.caller_voice import synthesize_caller

    return [(synthesize_caller(text, rate=8000), 8000) for text in PHRASES[: args.phrases]]


def bench_vad(clips: list[tuple[np.ndarray, int]]) -> tuple[float, float, int]:
    vad = VoiceActivityDetector(VadSettings())
    audio = np.concatenate([resample(a, r) for a, r in clips] * 3)
    times = []
    for i in range(0, audio.size - WINDOW_SAMPLES, WINDOW_SAMPLES):
        t = time.perf_counter()
        vad.process(audio[i : i + WINDOW_SAMPLES])
        times.append((time.perf_counter() - t) * 1000)
    return statistics.mean(times), _pct(times, 0.99), len(times)


def bench_decode(engine: FasterWhisperEngine, clips, prompt: str | None) -> tuple[float, float, list[str]]:
    engine.transcribe(resample(clips[0][0], clips[0][1]), prompt)  # warm-up
    audio_s = decode_s = 0.0
    texts = []
    for audio, rate in clips:
        x = resample(audio, rate)
        result = engine.transcribe(x, prompt)
        audio_s += result.audio_s
        decode_s += result.decode_s
        texts.append(result.text)
    return decode_s / audio_s, decode_s / len(clips), texts


async def bench_stream(engine, clips, prompt, asr: AsrSettings) -> tuple[list[float], list[float]]:
    scheduler = DecodeScheduler(engine, workers=asr.workers)
    partial_lat: list[float] = []
    final_lat: list[float] = []
    frame_ms = 20
    for audio, rate in clips:
        stream = StreamingTranscriber(scheduler, sample_rate=rate, asr=asr, prompt=prompt)
        pad = np.zeros(int(0.5 * rate), dtype=np.float32)
        tail = np.zeros(int(1.5 * rate), dtype=np.float32)
        pcm = float32_to_pcm16(np.concatenate([pad, audio, tail]))
        step = rate * frame_ms // 1000 * 2
        t0 = time.perf_counter()

        async def feed(stream=stream, pcm=pcm, step=step, t0=t0, rate=rate) -> None:
            for i in range(0, len(pcm), step):
                stream.feed(pcm[i : i + step])
                fed_until = (i + step) / 2 / rate
                await asyncio.sleep(max(0.0, t0 + fed_until - time.perf_counter()))
            stream.finish()

        feeder = asyncio.create_task(feed())
        async for event in stream.events():
            now = time.perf_counter() - t0
            if isinstance(event, Partial):
                partial_lat.append(now - event.end)
            elif isinstance(event, Final):
                final_lat.append(now - event.end)
        await feeder
    await scheduler.aclose()
    return partial_lat, final_lat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--model-path", type=Path, default=None, help="CTranslate2 Whisper folder")
    parser.add_argument("--compute-type", default="")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--cpu-threads", type=int, default=0)
    parser.add_argument("--partial-interval-ms", type=int, default=0)
    parser.add_argument("--phrases", type=int, default=len(PHRASES))
    parser.add_argument("--no-prompt", action="store_true", help="decode without the clinic vocabulary prompt")
    parser.add_argument("--wav", nargs="*", help="mono PCM16 WAV files (8 or 16 kHz) instead of synthetic callers")
    args = parser.parse_args(argv)

    overrides = {
        "device": args.device,
        "compute_type": args.compute_type,
        "beam_size": args.beam_size,
        "cpu_threads": args.cpu_threads,
        "partial_interval_ms": args.partial_interval_ms,
    }
    if args.model_path:
        overrides["model_path"] = args.model_path
    try:
        asr = AsrSettings(**overrides)
        started = time.perf_counter()
        engine = FasterWhisperEngine(asr)
        load_s = time.perf_counter() - started
    except AsrConfigError as exc:
        print(f"bench_asr: {exc}", file=sys.stderr)
        return 2
    from salesagent.clinic.profile import load_profile

    prompt = None if args.no_prompt else vocabulary_prompt(load_profile(), asr.prompt_max_chars)
    clips = load_clips(args)
    total_s = sum(a.size / r for a, r in clips)

    vad_mean, vad_p99, windows = bench_vad(clips)
    rtf, per_decode, texts = bench_decode(engine, clips, prompt)
    partial_lat, final_lat = asyncio.run(bench_stream(engine, clips, prompt, asr))

    print(
        f"\nASR bench: {engine.name}, beam {asr.beam_size}, prompt {'off' if prompt is None else 'on'}, "
        f"partial every {asr.effective_partial_interval_ms} ms, endpoint {VadSettings().min_silence_ms} ms, "
        f"{len(clips)} clips / {total_s:.1f} s of 8 kHz caller speech\n"
    )
    rows = [
        ("model load", f"{load_s:.2f} s", ""),
        ("VAD per 32 ms window", f"{vad_mean:.3f} ms mean", f"{vad_p99:.3f} ms p99 ({windows} windows)"),
        ("ASR real-time factor", f"{rtf:.3f}", f"{per_decode:.2f} s per utterance decode"),
        (
            "partial latency",
            f"{_pct(partial_lat, 0.5):.2f} s p50",
            f"{max(partial_lat, default=float('nan')):.2f} s max ({len(partial_lat)} partials)",
        ),
        (
            "final latency after speech end",
            f"{_pct(final_lat, 0.5):.2f} s p50",
            f"{max(final_lat, default=float('nan')):.2f} s max ({len(final_lat)} finals)",
        ),
    ]
    print(f"| {'metric':<32} | {'value':<18} | {'detail':<40} |")
    print(f"|{'-' * 34}|{'-' * 20}|{'-' * 42}|")
    for name, value, detail in rows:
        print(f"| {name:<32} | {value:<18} | {detail:<40} |")
    print("\nTranscripts:")
    for text in texts:
        print(f"  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
