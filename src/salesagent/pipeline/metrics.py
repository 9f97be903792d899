"""Prometheus metrics of the voice pipeline (``salesagent_voice_*``), served at ``/metrics``.

Module-level collectors in the default registry, as prometheus_client intends: every call in the
process adds to the same series, and ``/metrics`` shows them next to the LLM path's.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0)

ACTIVE_CALLS = Gauge("salesagent_voice_active_calls", "Calls being handled by the voice pipeline now.")
CALLS = Counter("salesagent_voice_calls_total", "Finished calls by outcome (lead status).", ["status"])
TURNS = Counter("salesagent_voice_turns_total", "Caller turns sent to the dialog.")
VOICE_TO_VOICE = Histogram(
    "salesagent_voice_turn_latency_seconds",
    "End of caller speech to the first frame of the reply on the wire (what the caller hears).",
    buckets=_LATENCY_BUCKETS,
)
STAGE_SECONDS = Histogram(
    "salesagent_voice_stage_seconds",
    "Per-turn duration of each stage: endpointing, asr, dialog, tts_first_chunk, playout_start.",
    ["stage"],
    buckets=_LATENCY_BUCKETS,
)
BARGE_INS = Counter(
    "salesagent_voice_barge_ins_total", "Caller speech over the agent, by outcome (interrupt, backchannel).",
    ["outcome"],
)
ERRORS = Counter(
    "salesagent_voice_errors_total", "Failures per component (asr, tts, dialog, record).", ["component"]
)
for _component in ("asr", "tts", "dialog", "record"):
    ERRORS.labels(component=_component)  # exported at 0 from the start, so /metrics shows them before any error
SILENCE_PROMPTS = Counter("salesagent_voice_silence_prompts_total", "'Вы меня слышите?' prompts said.")


def observe_turn(voice_to_voice_s: float | None, stages_ms: dict[str, float]) -> None:
    if voice_to_voice_s is not None:
        VOICE_TO_VOICE.observe(voice_to_voice_s)
    for stage, ms in stages_ms.items():
        STAGE_SECONDS.labels(stage=stage).observe(ms / 1000)


class _TtsStatsCollector:
    """Reads the synthesiser's own counters at scrape time (cache hits vs engine calls)."""

    def __init__(self) -> None:
        self.synths: list[object] = []

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        hits = sum(getattr(getattr(s, "stats", None), "cache_hits", 0) for s in self.synths)
        calls = sum(getattr(getattr(s, "stats", None), "engine_calls", 0) for s in self.synths)
        yield CounterMetricFamily("salesagent_voice_tts_cache_hits", "Sentences served from the TTS cache.",
                                  value=hits)
        yield CounterMetricFamily("salesagent_voice_tts_engine_calls", "Sentences synthesised by the engine.",
                                  value=calls)
        yield GaugeMetricFamily("salesagent_voice_tts_cache_hit_ratio", "Cache hits / all sentences.",
                                value=hits / (hits + calls) if hits + calls else 0.0)


_TTS_COLLECTOR = _TtsStatsCollector()


def register_tts_stats(synth: object) -> None:
    """Export ``synth.stats`` (cache_hits, engine_calls); registered once per process."""
    from prometheus_client import REGISTRY

    if not _TTS_COLLECTOR.synths:
        REGISTRY.register(_TTS_COLLECTOR)  # type: ignore[arg-type]
    if synth not in _TTS_COLLECTOR.synths:
        _TTS_COLLECTOR.synths.append(synth)
