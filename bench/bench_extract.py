"""Latency of RuleExtractor per utterance on this CPU (after warm-up), printed as a table.

    .venv/bin/python bench/bench_extract.py [--rounds 20]

Timings on a shared 2-core host are noisy; the table is for the docs, never for a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("SALESAGENT_NOW", "2026-11-25T11:00:00+03:00")

from salesagent import clock
from salesagent.clinic.profile import load_profile
from salesagent.dialog.extract.base import ExtractionContext
from salesagent.dialog.extract.rules import RuleExtractor
from salesagent.dialog.states import State

UTTERANCES: list[tuple[str, tuple[str, ...], State]] = [
    ("я ольга хочу на мрт колена в пятницу", (), State.GREETING),
    ("меня зовут ольга петровна", ("client_name",), State.ASK_CLIENT_NAME),
    ("ольга", ("client_name",), State.ASK_CLIENT_NAME),
    ("ну болит колено уже две недели ноющая боль особенно при ходьбе", ("symptoms",), State.ASK_SYMPTOMS),
    ("месяца три", ("symptoms_duration",), State.ASK_SYMPTOMS_DURATION),
    ("скорее острая стреляет в ногу", ("pain_character",), State.ASK_PAIN_CHARACTER),
    ("был у невролога он и направил", ("visited_doctor",), State.ASK_VISITED_DOCTOR),
    ("им прот колена", (), State.ASK_STUDY_REQUEST),
    ("а сколько это стоит и где вы находитесь", (), State.ASK_STUDY_DECISION),
    ("да давайте", (), State.OFFER_VIDEO_CONCLUSION),
    ("нет не в пятницу а в субботу утром", (), State.ASK_APPOINTMENT_DATE),
    ("двенадцатого декабря в три часа дня", (), State.ASK_APPOINTMENT_DATE),
    ("восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", ("phone",), State.ASK_PHONE),
    ("сорок пять и восемьдесят", ("age", "weight"), State.ASK_AGE_WEIGHT),
    ("у меня кардиостимулятор и пластина в ноге", (), State.CHECK_CONTRAINDICATIONS),
    ("нет ничего такого", (), State.CHECK_CONTRAINDICATIONS),
    ("я пенсионерка", (), State.CHECK_DISCOUNTS),
    ("перезвоните мне позже пожалуйста сейчас неудобно говорить", (), State.ASK_PHONE),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if args.rounds < 1:
        print("bench_extract: --rounds must be >= 1", file=sys.stderr)
        return 2
    profile = load_profile()
    rules = RuleExtractor()
    started = time.perf_counter()
    rules.warm_up(profile)
    warm_s = time.perf_counter() - started
    now = clock.now(profile.tz)
    rows: list[tuple[str, float, float]] = []
    every: list[float] = []
    for text, expected, state in UTTERANCES:
        ctx = ExtractionContext(state=state, now=now, profile=profile, expected=expected)
        samples = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            rules.extract(text, ctx)
            samples.append((time.perf_counter() - t0) * 1000)
        every += samples
        rows.append((text, statistics.median(samples), max(samples)))
    print(f"warm_up: {warm_s:.2f} s; {len(UTTERANCES)} utterances x {args.rounds} rounds")
    print(f"| {'utterance':<60} | p50 ms | max ms |")
    print(f"|{'-' * 62}|--------|--------|")
    for text, p50, worst in rows:
        print(f"| {text[:60]:<60} | {p50:6.2f} | {worst:6.2f} |")
    every.sort()
    p95 = every[int(0.95 * (len(every) - 1))]
    print(f"\nall: p50 {statistics.median(every):.2f} ms, p95 {p95:.2f} ms, max {every[-1]:.2f} ms")
    # a cold first utterance (fresh caches of a new word) is the realistic case: measure unique texts
    cold = []
    for i in range(50):
        ctx = ExtractionContext(state=State.ASK_SYMPTOMS, now=now, profile=profile, expected=("symptoms",))
        t0 = time.perf_counter()
        rules.extract(f"у меня болит поясница уже {i + 2} дней и немеет нога номер {i}", ctx)
        cold.append((time.perf_counter() - t0) * 1000)
    cold.sort()
    print(f"unique texts: p50 {statistics.median(cold):.2f} ms, p95 {cold[int(0.95 * 49)]:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
