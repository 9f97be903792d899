"""Dialog engine benchmark: 200 full conversations, p50/p95 of the engine's time per turn.

    .venv/bin/python bench/bench_dialog.py [--calls 200] [--extractor rules]

Runs the real engine with the real extractor and the SQLite session store (as the embedded
default does), and prints one table: engine time per turn (extraction + graph) and the whole
service turn (lock + load + engine + save).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SALESAGENT_NOW", "2026-11-25T11:00:00+03:00")

BASE = {
    "GREETING": "здравствуйте хочу записаться на обследование",
    "ASK_CLIENT_NAME": "меня зовут Ольга",
    "ASK_SYMPTOMS": "болит колено после падения",
    "ASK_SYMPTOMS_DURATION": "уже две недели",
    "ASK_PAIN_CHARACTER": "ноющая боль",
    "ASK_VISITED_DOCTOR": "да была у травматолога",
    "ASK_STUDY_REQUEST": "мрт колена",
    "RECOMMEND_STUDY": "да давайте",
    "ASK_STUDY_DECISION": "да",
    "OFFER_VIDEO_CONCLUSION": "нет спасибо",
    "ANNOUNCE_MEDIA_PRICE": "нет не нужно",
    "ASK_APPOINTMENT_DATE": "в пятницу",
    "OFFER_APPOINTMENT_TIMES": "да давайте",
    "CONFIRM_TIME": "да",
    "ASK_PHONE": "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
    "ASK_AGE_WEIGHT": "мне сорок пять лет вешу восемьдесят килограмм",
    "CHECK_CONTRAINDICATIONS": "нет ничего такого нет",
    "CHECK_DISCOUNTS": "нет",
    "CONFIRM_APPOINTMENT": "да всё верно",
}
PERSONAS = [
    ("cooperative", [], BASE),
    ("volunteer", ["я Ольга хочу на мрт колена в пятницу"], BASE),
    ("questions", ["а сколько стоит мрт", "а где вы находитесь"], BASE),
    ("pacemaker", [], {**BASE, "CHECK_CONTRAINDICATIONS": "у меня кардиостимулятор"}),
    ("pensioner", [], {**BASE, "ASK_AGE_WEIGHT": "шестьдесят восемь лет вес под сто", "CHECK_DISCOUNTS": "я пенсионерка"}),
    ("decline", [], {**BASE, "ASK_STUDY_DECISION": "нет спасибо дорого не буду"}),
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--extractor", default="rules", choices=["rules", "llm", "hybrid"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SALESAGENT_DATA_DIR"] = tmp
        os.environ["SALESAGENT_EXTRACTOR"] = args.extractor
        from salesagent.config import get_settings
        from salesagent.services.factory import build_service

        service = build_service(get_settings(), leads=False)
        engine_ms: list[float] = []
        service_ms: list[float] = []
        statuses: dict[str, int] = {}
        turns = 0
        started = time.perf_counter()
        for i in range(args.calls):
            name, openers, answers = PERSONAS[i % len(PERSONAS)]
            sid = f"bench-{i}"
            result = service.handle_sync(sid, "")
            queue = list(openers)
            for _ in range(60):
                if result.done:
                    break
                text = queue.pop(0) if queue else answers.get(result.state.value, "да")
                t0 = time.perf_counter()
                result = service.handle_sync(sid, text)
                service_ms.append((time.perf_counter() - t0) * 1000)
                engine_ms.append(result.latency_ms)
                turns += 1
            status = service.store.get(sid).slots.status
            statuses[f"{name}:{status}"] = statuses.get(f"{name}:{status}", 0) + 1
        wall = time.perf_counter() - started
        print(f"\nDialog engine, {args.calls} conversations, {turns} turns, extractor={args.extractor}, "
              f"{wall:.1f} s wall, Python {sys.version.split()[0]}\n")
        print("| measure | p50 ms | p95 ms | p99 ms | mean ms |")
        print("|---|---|---|---|---|")
        for label, values in (("engine turn (extract + graph)", engine_ms), ("service turn (+ lock, load, save)", service_ms)):
            print(f"| {label} | {pct(values, .5):.2f} | {pct(values, .95):.2f} | {pct(values, .99):.2f} "
                  f"| {statistics.fmean(values):.2f} |")
        print("\nOutcomes:", ", ".join(f"{k}={v}" for k, v in sorted(statuses.items())))
        Path(tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
