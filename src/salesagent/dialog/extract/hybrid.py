"""Rules first, the LLM for what rules miss: one ``Extractor`` that merges both.

Merge policy (:func:`merge_extractions`):

* rules always win on the verifiable formats: phone (and a phone tail), date/time, age, weight
  and a bare number; the LLM is never asked to overrule a parser that checked a format;
* the LLM fills the free-form fields the rules left empty: name in an odd form, complaint,
  duration, pain character, body part, modality;
* lists (contraindications, discounts, FAQ) and intents come from the rules when the rules found
  any, else from the LLM: a list is answered as a whole, mixing two readings of one sentence
  would invent combinations neither saw;
* every LLM value has already passed :func:`~salesagent.dialog.extract.llm.validate_against_profile`.

The LLM call runs in a worker thread while the rules run, so a turn costs max(rules, LLM), and the
LLM part is cut at the budget: on timeout or error the rules' result is returned unchanged (and
the fallback is logged and counted). ``extract()`` never raises.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Literal

from salesagent.dialog.extract.base import Extraction, ExtractionContext, Extractor

log = logging.getLogger(__name__)

RULES_WIN: tuple[str, ...] = ("phone", "phone_tail", "date", "age", "weight", "number")
LLM_FILLS: tuple[str, ...] = ("client_name", "symptoms", "symptoms_duration", "pain_character", "body_part",
                              "modality")
WHOLE_LISTS: tuple[str, ...] = ("contraindications", "discounts", "faq", "intents")

_EXECUTOR = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hybrid-llm")


def merge_extractions(rules: Extraction, llm: Extraction) -> tuple[Extraction, list[str]]:
    """The merged extraction and the names of the fields the LLM contributed."""
    merged: dict[str, Any] = rules.model_dump(exclude={"source"})
    from_llm: list[str] = []
    for field in LLM_FILLS:
        if merged.get(field) is None and getattr(llm, field) is not None:
            merged[field] = getattr(llm, field)
            from_llm.append(field)
    for field in WHOLE_LISTS:
        if not merged.get(field) and getattr(llm, field):
            merged[field] = getattr(llm, field)
            from_llm.append(field)
    # RULES_WIN fields are never taken from the LLM, even when the rules found nothing: an
    # unverified phone or date is worse than asking again.
    merged["source"] = "hybrid" if from_llm else rules.source
    return Extraction.model_validate(merged), from_llm


class HybridExtractor:
    """Implements ``Extractor``: ``rules`` (deterministic) plus ``llm`` (an ``LLMExtractor``)."""

    name = "hybrid"

    def __init__(self, rules: Extractor, llm: Extractor, *, budget_s: float,
                 llm_when: Literal["always", "gaps"] = "gaps") -> None:
        self.rules = rules
        self.llm = llm
        self.budget_s = budget_s
        self.llm_when = llm_when
        self.last_llm_fields: list[str] = []
        self.last_fallback: str | None = None

    def with_variant(self, name: str) -> HybridExtractor:
        llm = self.llm.with_variant(name) if hasattr(self.llm, "with_variant") else self.llm
        return HybridExtractor(self.rules, llm, budget_s=self.budget_s, llm_when=self.llm_when)

    def _needs_llm(self, rules: Extraction, context: ExtractionContext) -> bool:
        if self.llm_when == "always" or not context.expected:
            return True
        return any(getattr(rules, name, None) in (None, [], set()) for name in context.expected
                   if name in Extraction.model_fields)

    def extract(self, text: str, context: ExtractionContext, slots: dict[str, Any] | None = None) -> Extraction:
        self.last_llm_fields = []
        self.last_fallback = None
        future: Future[Extraction] | None = None
        if self.llm_when == "always":
            future = _EXECUTOR.submit(self._llm, text, context, slots)
        try:
            rules = self.rules.extract(text, context)
        except Exception:  # the Protocol says it never raises; a broken one must not end the call
            log.exception("rules extractor raised", extra={"context": {"state": str(context.state)}})
            rules = Extraction(source="rules")
        if future is None:
            if not self._needs_llm(rules, context):
                return rules
            future = _EXECUTOR.submit(self._llm, text, context, slots)
        try:
            # the LLM extractor enforces the budget itself; this bound only guards against a
            # misbehaving implementation (a little slack so its own timeout is the one that fires)
            llm = future.result(timeout=self.budget_s + 0.1)
        except FutureTimeout:
            self.last_fallback = "timeout"
        except Exception:
            log.exception("LLM extractor raised", extra={"context": {"state": str(context.state)}})
            self.last_fallback = "error"
        else:
            if llm.is_empty():
                self.last_fallback = "empty"
            merged, self.last_llm_fields = merge_extractions(rules, llm)
            if self.last_llm_fields:
                log.info("hybrid extraction used the LLM",
                         extra={"context": {"state": str(context.state), "fields": self.last_llm_fields}})
            return merged
        log.info("hybrid extraction fell back to rules",
                 extra={"context": {"state": str(context.state), "reason": self.last_fallback}})
        return rules

    def _llm(self, text: str, context: ExtractionContext, slots: dict[str, Any] | None) -> Extraction:
        if slots is not None:
            return self.llm.extract(text, context, slots=slots)  # type: ignore[call-arg]
        return self.llm.extract(text, context)
