"""Whole simulated phone calls at once, the old defaults and the new side by side: voice-to-voice
latency, where the time goes, calls booked, CPU and memory per call.

N simulated callers (the ``quick`` persona by default: talks over the agent; each call in another
caller voice, festival and RHVoice ones, pitch-shifted, 8 kHz) call ONE in-process agent over the
real mod_audio_fork WebSocket path, exactly like ``salesagent demo``; all calls share one Whisper
model and one decode queue. For each configuration and level it prints voice-to-voice p50/p95
(end of caller speech -> first agent audio frame on the wire, as the agent measures it), the mean
of each stage, how many calls booked, and CPU seconds and RSS growth per call.
Run: ``python bench/bench_calls.py --calls 1 3 6 10``.

``old`` is landed main before the latency work: Whisper's full 30 s encoder window with timestamp
tokens, temperature fallback, decoding only at the endpoint, one fixed clinic prompt, one endpoint
for every question, festival's voice. ``endpoint`` is today's defaults except that every turn waits
for its full endpoint (no early end of an answer already complete). ``new`` is today's defaults.

On a 2-core CPU the decode queue is the bottleneck (a Whisper base decode is ~0.6 s of CPU); the
same script runs on a GPU with ``SALESAGENT_ASR_DEVICE=cuda SALESAGENT_ASR_MODEL_PATH=...``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


CALLER_VOICES = [("festival", 200, 1.05), ("rhvoice:anna", 150, 1.0), ("rhvoice:aleksandr", -100, 1.0),
                 ("rhvoice:elena", -200, 0.95)]


def _callers(persona, n: int) -> list:
    """n copies of the persona, each in the next caller voice (none is the agent's own voice)."""
    from salesagent.demo.persona import Voice

    return [persona.model_copy(update={"voice": Voice(name=name, pitch_cents=pitch, tempo=tempo)})
            for name, pitch, tempo in (CALLER_VOICES[i % len(CALLER_VOICES)] for i in range(n))]


def build_stack(config: str):
    """The agent as landed main configured it (``old``), or with today's defaults (``new``)."""
    from salesagent.pipeline.config import VoiceSettings
    from salesagent.services.app import VoiceStack
    from salesagent.speech.config import AsrSettings

    if config == "new":
        return VoiceStack.build()
    if config == "endpoint":
        return VoiceStack.build(asr=AsrSettings(answer_complete_silence_ms=0))
    from salesagent.speech.tts import build_synthesizer
    from salesagent.speech.tts_config import TtsSettings

    asr = AsrSettings(encoder_windows_s=(), timestamps=True, temperatures=(0.0, 0.2, 0.4), workers=1,
                      speculative_silence_ms=0, max_tokens_per_s=100.0, answer_complete_silence_ms=0)
    tts = build_synthesizer(TtsSettings(engine="festival", voice=None))
    stack = VoiceStack.build(asr=asr, tts=tts, voice=VoiceSettings(answer_endpoints_ms={}))
    stack.prompts, stack.owns_tts = None, True
    return stack


async def _level(stack, persona, n: int, cache: Path, max_call_s: float) -> dict:
    from salesagent.demo.runner import run_calls

    cpu0, rss0, t0 = _cpu_s(), _rss_mb(), time.perf_counter()
    outcomes = await run_calls(stack, _callers(persona, n), voice_cache=cache, max_call_s=max_call_s,
                               stagger_s=0.3)
    wall = time.perf_counter() - t0
    v2v: list[float] = []
    stages: dict[str, list[float]] = {}
    for outcome in outcomes:
        for turn in outcome.report.get("latency", {}).get("turns", []):
            if turn.get("voice_to_voice_ms") is not None:
                v2v.append(turn["voice_to_voice_ms"])
            for stage, ms in (turn.get("stages_ms") or {}).items():
                stages.setdefault(stage, []).append(ms)
    return {
        "calls": n,
        "booked": sum(o.status == "booked" for o in outcomes),
        "turns": len(v2v),
        "p50": _pct(v2v, 0.5),
        "p95": _pct(v2v, 0.95),
        "stages": {k: statistics.fmean(v) for k, v in stages.items()},
        "cpu_per_call_s": (_cpu_s() - cpu0) / n,
        "rss_per_call_mb": max(0.0, _rss_mb() - rss0) / n,
        "wall_s": wall,
    }


async def main(levels: list[int], persona_name: str, max_call_s: float, configs: list[str]) -> None:
    from salesagent.config import get_settings
    from salesagent.demo.persona import load_persona

    os.environ.setdefault("SALESAGENT_NOW", "2026-11-25T11:00:00+03:00")
    os.environ.setdefault("SALESAGENT_DATA_DIR", tempfile.mkdtemp(prefix="bench-calls-"))
    get_settings.cache_clear()
    persona = load_persona(persona_name)
    cache = Path(get_settings().ensure_data_dir()) / "bench-voice"
    print(f"persona {persona.name}, {os.cpu_count()} CPUs, base RSS {_rss_mb():.0f} MB", flush=True)
    rows = []
    for config in configs:
        stack = build_stack(config)
        print(f"{config}: engine {stack.engine.name}, voice {stack.tts.engine.name}, ASR workers "
              f"{stack.asr.workers}", flush=True)
        try:
            for n in levels:
                row = await _level(stack, persona, n, cache, max_call_s)
                rows.append({"config": config, **row})
                print(f"  {config}: {n} calls done in {row['wall_s']:.0f} s: {_row(rows[-1])}", file=sys.stderr,
                      flush=True)
        finally:
            stack.close()
    _print_table(rows)


STAGE_NAMES = ("endpointing", "asr", "dialog", "tts_first_chunk")


def _row(r: dict) -> str:
    return (f"| {r['config']} | {r['calls']} | {r['booked']} | {r['turns']} | {r['p50']:.0f} | {r['p95']:.0f} | "
            + " | ".join(f"{r['stages'].get(s, float('nan')):.0f}" for s in STAGE_NAMES)
            + f" | {r['cpu_per_call_s']:.1f} | {r['rss_per_call_mb']:.1f} |")


def _print_table(rows: list[dict]) -> None:
    stage_names = STAGE_NAMES
    print("| config | calls | booked | turns | v2v p50 ms | v2v p95 ms | "
          + " | ".join(stage_names) + " | CPU s/call | RSS MB/call |")
    print("|---|" + "---:|" * (9 + len(stage_names) - 3))
    for r in sorted(rows, key=lambda r: (r["calls"], ["old", "endpoint", "new"].index(r["config"]))):
        print(_row(r))
    print("(stage columns: mean ms per turn; v2v = end of caller speech -> first agent audio frame sent)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--persona", default="quick")
    parser.add_argument("--max-call-s", type=float, default=300.0)
    parser.add_argument("--configs", nargs="+", choices=["old", "endpoint", "new"],
                        default=["old", "endpoint", "new"])
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.persona, args.max_call_s, args.configs))
