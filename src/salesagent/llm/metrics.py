"""Prometheus metrics of the LLM path (``salesagent_llm_*``).

Every series carries ``operation`` (extract / rephrase / answer) and ``variant`` (the A/B prompt
variant) so that latency, failures and fallbacks can be compared per prompt variant next to the
booking rate the call reports carry.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUEST_SECONDS = Histogram(
    "salesagent_llm_request_seconds",
    "Wall time of one LLM call including retries, by outcome.",
    ["operation", "variant", "outcome"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0),
)
FAILURES = Counter(
    "salesagent_llm_failures_total",
    "LLM calls that gave no usable answer, by reason (timeout, http_5xx, connect, bad_json, ...).",
    ["operation", "variant", "reason"],
)
RETRIES = Counter(
    "salesagent_llm_retries_total",
    "Retries of transient LLM errors.",
    ["operation", "variant"],
)
FALLBACKS = Counter(
    "salesagent_llm_fallbacks_total",
    "Turns where the deterministic result or the template was used instead of the LLM's.",
    ["operation", "variant", "reason"],
)
REJECTED_VALUES = Counter(
    "salesagent_llm_rejected_values_total",
    "LLM slot values dropped because the clinic profile does not know them.",
    ["field", "variant"],
)
VARIANT_SESSIONS = Counter(
    "salesagent_llm_variant_sessions_total",
    "Sessions assigned to each prompt variant.",
    ["variant"],
)
VARIANT_OUTCOMES = Counter(
    "salesagent_llm_variant_outcomes_total",
    "Call outcomes (booked, declined, ...) per prompt variant, for booking-rate comparison.",
    ["variant", "status"],
)
HYBRID_TURNS = Counter(
    "salesagent_llm_hybrid_turns_total",
    "Hybrid extractor turns by what happened: rules (understood, LLM not asked), used (the LLM "
    "added a field), nothing (asked, added nothing), fallback (timeout or error).",
    ["variant", "outcome"],
)
