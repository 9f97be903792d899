"""The Grafana dashboard in ops/ only queries series that the process really exports at /metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

DASHBOARD = Path(__file__).resolve().parents[2] / "ops" / "grafana" / "salesagent-dashboard.json"


def exported_sample_names() -> set[str]:
    import salesagent.llm.metrics  # noqa: F401  (registers the LLM path's collectors)
    from salesagent.pipeline.metrics import register_tts_stats

    class _Synth:
        class stats:  # the attribute shape the collector reads
            cache_hits = 3
            engine_calls = 1

    register_tts_stats(_Synth())
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    names: set[str] = set()
    for family in REGISTRY.collect():  # labelled families have no samples until a label is used
        names.update(family.name + s for s in suffixes.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def test_dashboard_is_valid_grafana_json() -> None:
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dash["uid"] and dash["title"] and dash["panels"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dash["panels"]:
        assert panel["targets"], panel["title"]
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])


def test_every_queried_metric_is_exported() -> None:
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queried = {name for panel in dash["panels"] for target in panel["targets"]
               for name in re.findall(r"salesagent_[a-z0-9_]+", target["expr"])}
    assert {"salesagent_voice_active_calls", "salesagent_voice_turn_latency_seconds_bucket",
            "salesagent_voice_stage_seconds_bucket", "salesagent_voice_errors_total",
            "salesagent_voice_tts_cache_hit_ratio", "salesagent_voice_calls_total"} <= queried
    missing = queried - exported_sample_names()
    assert not missing, f"dashboard queries series nobody exports: {sorted(missing)}"
