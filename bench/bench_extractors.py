"""Slot accuracy and turn latency of the rules, LLM and hybrid extractors on labelled utterances.

    .venv/bin/python bench/bench_extractors.py                       # every local GGUF model found
    .venv/bin/python bench/bench_extractors.py --model models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
    LLM_BASE_URL=http://gpu:8000/v1 LLM_MODEL=... LLM_BACKEND=vllm \\
        .venv/bin/python bench/bench_extractors.py --remote              # a running server (vLLM)

Cases: bench/data/extraction_cases.yaml. A case's slot is right when the extractor's value equals
the label (names case-insensitive, durations/pain by stem, lists as sets). "invented" counts
contraindications no label asked for: the dangerous kind of LLM error. Latency is wall time per
turn (p50/p95); the LLM's first call, which fills the server's prompt cache, is excluded.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from salesagent.clinic.profile import load_profile
from salesagent.dialog.extract.base import Extraction, ExtractionContext, Extractor
from salesagent.dialog.extract.hybrid import HybridExtractor
from salesagent.dialog.extract.llm import LLMExtractor
from salesagent.dialog.extract.rules import RuleExtractor
from salesagent.dialog.states import State
from salesagent.llm.config import LLMSettings
from salesagent.llm.local_server import MEDIUM_MODEL, MODELS_DIR, SMALL_MODEL, LlamaCppServer, LocalServerError

CASES = Path(__file__).parent / "data" / "extraction_cases.yaml"


def slot_right(field: str, want: Any, got: Extraction) -> bool:
    if field == "day":
        return got.date is not None and got.date.day is not None and got.date.day.isoformat() == want
    if field == "at":
        return got.date is not None and got.date.at is not None and got.date.at.strftime("%H:%M") == want
    value = getattr(got, field)
    if field == "symptoms":
        return bool(value) == bool(want)
    if field == "client_name":
        return value is not None and value.lower() == str(want).lower()
    if field == "symptoms_duration":
        number, unit = str(want).split()
        return value is not None and number in value and unit in value
    if field == "pain_character":
        return value is not None and str(want) in value.lower()
    if field in ("contraindications", "discounts", "faq"):
        return set(value) == set(want)
    if field == "intents":
        return {i.value for i in value} >= set(want)
    return value == want


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(extractor: Extractor, cases: list[dict[str, Any]], profile, now: datetime) -> dict[str, Any]:
    right = total = invented = 0
    latencies: list[float] = []
    misses: list[str] = []
    for case in cases:
        context = ExtractionContext(state=State(case["state"]), now=now, profile=profile,
                                    expected=tuple(case.get("expected", ())))
        started = time.perf_counter()
        got = extractor.extract(case["text"], context)
        latencies.append((time.perf_counter() - started) * 1000)
        expect = case["expect"]
        for field, want in expect.items():
            total += 1
            if slot_right(field, want, got):
                right += 1
            else:
                misses.append(f"{case['text'][:40]!r}: {field}")
        if "contraindications" not in expect:
            invented += len(got.contraindications)
        else:
            invented += len(set(got.contraindications) - set(expect["contraindications"]))
    return {"right": right, "total": total, "invented": invented, "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95), "misses": misses}


def row(name: str, model: str, result: dict[str, Any], fallbacks: str = "") -> str:
    acc = 100 * result["right"] / max(1, result["total"])
    return (f"| {name:<7} | {model:<26} | {result['right']:>3}/{result['total']:<3} | {acc:5.1f}% | "
            f"{result['invented']:>8} | {result['p50']:8.0f} | {result['p95']:8.0f} | {fallbacks:<9} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="GGUF file(s); default: the ones in models/")
    parser.add_argument("--remote", action="store_true", help="use LLM_BASE_URL/LLM_MODEL/LLM_BACKEND as set")
    parser.add_argument("--budget-ms", type=int, default=30_000, help="LLM budget per turn (CPU needs seconds)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--misses", action="store_true", help="print the wrong slots")
    args = parser.parse_args()

    data = yaml.safe_load(CASES.read_text("utf-8"))
    cases = data["cases"]
    profile = load_profile()
    now = datetime.fromisoformat(data["now"]).astimezone(profile.tz)
    os.environ["SALESAGENT_NOW"] = data["now"]

    rules = RuleExtractor()
    rules.warm_up(profile)
    print(f"{len(cases)} utterances, {sum(len(c['expect']) for c in cases)} labelled slots, "
          f"LLM budget {args.budget_ms} ms, {args.threads} threads\n")
    print("| extractor | model | slots right | accuracy | invented | p50 ms | p95 ms | fallbacks |")
    print("|---|---|---|---|---|---|---|---|")
    result = run(rules, cases, profile, now)
    print(row("rules", "-", result))
    if args.misses:
        print("   misses:", "; ".join(result["misses"]))

    targets: list[tuple[str, LLMSettings, LlamaCppServer | None]] = []
    if args.remote:
        settings = LLMSettings(budget_ms=args.budget_ms)
        targets.append((settings.model, settings, None))
    else:
        models = args.model or [p for p in (MODELS_DIR / SMALL_MODEL, MODELS_DIR / MEDIUM_MODEL) if p.is_file()]
        for path in models:
            server = LlamaCppServer(path, threads=args.threads)
            settings = LLMSettings(LLM_BASE_URL=server.base_url, LLM_MODEL="local", LLM_BACKEND="llamacpp",
                                   budget_ms=args.budget_ms, max_retries=0)
            targets.append((path.name.split("-instruct")[0], settings, server))
    for label, settings, server in targets:
        try:
            if server is not None:
                server.start()
            llm = LLMExtractor(settings)
            llm.warm_up(profile)
            for name, extractor in (("llm", llm), ("hybrid", HybridExtractor(rules, llm, budget_s=settings.budget_s,
                                                                              llm_when=settings.hybrid_llm_when))):
                empty_before = _fallbacks()
                result = run(extractor, cases, profile, now)
                print(row(name, label, result, f"{_fallbacks() - empty_before:.0f}"), flush=True)
                if args.misses:
                    print("   misses:", "; ".join(result["misses"]))
        except LocalServerError as exc:
            print(f"| llm | {label} | server failed: {exc} |")
        finally:
            if server is not None:
                server.stop()
    return 0


def _fallbacks() -> float:
    from prometheus_client import REGISTRY

    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "salesagent_llm_fallbacks":
            total += sum(s.value for s in metric.samples if s.name.endswith("_total")
                         and s.labels.get("operation") == "extract")
    return total


if __name__ == "__main__":
    sys.exit(main())
