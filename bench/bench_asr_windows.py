"""Whisper's encoder window: the full 30 s against windows fitted to the clip, in one run.

    .venv/bin/python bench/bench_asr_windows.py                 # Whisper base int8 on this CPU
    .venv/bin/python bench/bench_asr_windows.py --device cuda --model-path /models/large-v3-turbo-ct2

Caller lines are phrases written for this bench only (no test or prompt was tuned on them),
spoken by festival in three caller voices (pitch and tempo changed by sox), band-limited to
300-3400 Hz at 8 kHz, decoded one by one with the clinic prompt. WER counts words after lower-
casing, dropping punctuation and writing numbers as digits on both sides. Prints a table; asserts
nothing (timings on a shared host are noisy).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from salesagent.clinic.profile import load_profile
from salesagent.config import get_settings
from salesagent.dialog.extract.numbers import words_to_digits
from salesagent.speech.asr.caller_voice import synthesize_caller
from salesagent.speech.asr.prompt import vocabulary_prompt
from salesagent.speech.asr.whisper import FasterWhisperEngine
from salesagent.speech.audio import resample
from salesagent.speech.config import AsrSettings

LINES = [
    "мне нужно узи щитовидной железы",
    "болит уже около месяца",
    "давайте на двадцать девятое после обеда",
    "меня зовут галина сергеевна",
    "телефон восемь девятьсот двадцать шесть сто сорок три двадцать два одиннадцать",
    "а по полису омс можно",
    "нет кардиостимулятора у меня нет",
    "вес примерно девяносто пять килограмм",
    "а сколько стоит кт грудной клетки",
    "лучше во вторник с утра",
    "мне шестьдесят восемь лет",
    "спина болит с прошлой зимы",
    "у меня в колене металлическая пластина",
    "хорошо записывайте",
    "а где вы находитесь как доехать от метро",
    "нет спасибо я передумала",
    "первый вариант подходит",
    "можно оплатить картой на месте",
    "фамилия кузнецова",
    "запишите на следующую пятницу в одиннадцать",
]
VOICES = [(250, 1.1), (-150, 0.95), (450, 1.2)]  # (pitch cents, tempo)


def _norm(text: str) -> list[str]:
    text = re.sub(r"[^\w\s]", " ", text.lower().replace("ё", "е"))
    return words_to_digits(text).split()


def wer(refs: list[str], hyps: list[str]) -> float:
    errors = sum(Levenshtein.distance(_norm(r), _norm(h)) for r, h in zip(refs, hyps, strict=True))
    return errors / sum(len(_norm(r)) for r in refs)


def _clips(lines: list[str], voices: list[tuple[int, float]]) -> list[tuple[str, object]]:
    clips = []
    for pitch, tempo in voices:
        for line in lines:
            audio8 = synthesize_caller(line, rate=8000, pitch_cents=pitch, tempo=tempo)
            clips.append((line, resample(audio8, 8000, 16000)))
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--model-path", type=Path, default=None)
    parser.add_argument("--lines", type=int, default=len(LINES))
    parser.add_argument("--voices", type=int, default=len(VOICES))
    parser.add_argument("--windows", nargs="*", default=None,
                        help='window sets to compare, e.g. "" "10,15,20" (default: 30 s against the defaults)')
    parser.add_argument("--no-prompt", action="store_true")
    args = parser.parse_args()
    options = {"device": args.device, **({"model_path": args.model_path} if args.model_path else {})}
    settings = AsrSettings(**options)
    engine = FasterWhisperEngine(settings)
    prompt = None if args.no_prompt else vocabulary_prompt(load_profile(get_settings().profile_path),
                                                           settings.prompt_max_chars)
    clips = _clips(LINES[: args.lines], VOICES[: args.voices])
    engine.transcribe(clips[0][1], prompt)  # warm up
    new = AsrSettings()
    configs = [("30 s, timestamps (old)", (), True), ("fitted, no timestamps (new)", new.encoder_windows_s, False)]
    if args.windows is not None:
        configs = [(w or "30 s", tuple(float(x) for x in w.split(",") if x), new.timestamps) for w in args.windows]
    print(f"{len(clips)} caller lines, {engine.name}, prompt {'off' if prompt is None else 'on'}")
    print("| encoder window | WER | decode p50 ms | decode p95 ms | mean ms |\n|---|---:|---:|---:|---:|")
    for label, windows, timestamps in configs:
        engine.settings.encoder_windows_s = windows
        engine.settings.timestamps = timestamps
        hyps, times = [], []
        for _ref, audio in clips:
            started = time.perf_counter()
            hyps.append(engine.transcribe(audio, prompt).text)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"| {label} {windows or ''} | {wer([r for r, _ in clips], hyps):.1%} | "
              f"{statistics.median(times):.0f} | {p95:.0f} | {statistics.mean(times):.0f} |")


if __name__ == "__main__":
    main()
