"""Rules first, the LLM for what rules miss: one ``Extractor`` that merges both.

Merge policy (:func:`merge_extractions`):

* rules always win on the verifiable formats: phone (and a phone tail), date/time, age, weight
  and a bare number; the LLM is never asked to overrule a parser that checked a format;
* the LLM fills the free-form fields the rules left empty: name in an odd form, complaint,
  duration, pain character, body part, modality;
* lists (contraindications, discounts, FAQ) and intents come from the rules when the rules found
  any, else from the LLM: a list is answered as a whole, mixing two readings of one sentence
  would invent combinations neither saw; of the LLM's intents only an answer (yes, no, don't
  know) is taken, never an action that ends the call (:func:`llm_intents`);
* every LLM value has already passed :func:`~salesagent.llm.extractor.validate_against_profile`.

When the LLM is asked (``llm_when``): ``gaps`` (default) asks it only when the rules did not
understand the answer to the question just asked (:func:`understood`), so the common turn stays
at the rules' milliseconds and makes no request; ``always`` runs it in a worker thread while the
rules run (a turn costs max(rules, LLM)). The LLM part is cut at the budget: on timeout or error
the rules' result is returned unchanged (and the fallback is logged and counted). ``extract()``
never raises.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Literal

from salesagent.dialog.extract.base import Extraction, ExtractionContext, Extractor, Intent
from salesagent.llm import metrics

log = logging.getLogger(__name__)

RULES_WIN: tuple[str, ...] = ("phone", "phone_tail", "date", "age", "weight", "number")
LLM_FILLS: tuple[str, ...] = ("client_name", "symptoms", "symptoms_duration", "pain_character", "body_part",
                              "modality")
WHOLE_LISTS: tuple[str, ...] = ("contraindications", "discounts", "faq", "intents")

LLM_INTENTS = frozenset({Intent.YES, Intent.NO, Intent.DONT_KNOW})

_EXECUTOR = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hybrid-llm")

# Intents the engine acts on whatever was asked: the rules understood the turn.
_ACTIONS = frozenset({Intent.DECLINE, Intent.CALLBACK, Intent.HUMAN, Intent.REPEAT, Intent.CORRECTION})
_YES_NO = frozenset({Intent.YES, Intent.NO})


def _has(ext: Extraction, field: str) -> bool:
    return getattr(ext, field, None) not in (None, [], set(), "")


def _answers(name: str, ext: Extraction) -> bool:
    """Whether ``ext`` answers the expected slot ``name`` (planner.EXPECTED's vocabulary)."""
    yes_no = bool(ext.intents & _YES_NO)
    dont_know = Intent.DONT_KNOW in ext.intents
    if name in ("yes_no", "visited_doctor", "video_conclusion", "media"):
        return yes_no or ext.date is not None  # a new time at a confirmation is a correction
    if name in ("symptoms", "pain_character", "contraindications", "discount"):
        field = {"discount": "discounts"}.get(name, name)
        return _has(ext, field) or Intent.NO in ext.intents or dont_know
    if name == "study_type":
        return _has(ext, "body_part") or _has(ext, "modality") or Intent.NO in ext.intents or dont_know
    if name == "appointment_datetime":
        return (ext.date is not None or ext.number is not None or _has(ext, "choice")
                or Intent.YES in ext.intents or dont_know)
    if name == "phone":
        return _has(ext, "phone") or _has(ext, "phone_tail")
    if name in ("age", "weight"):
        return _has(ext, "age") or _has(ext, "weight")
    if name == "symptoms_duration":
        return _has(ext, name) or dont_know
    return _has(ext, name)


def understood(ext: Extraction, context: ExtractionContext) -> bool:
    """Did the rules understand the caller's answer to the question just asked?

    True when they found what the question asks for (``context.expected``; a yes or no for a
    yes/no question), an intent the engine acts on whatever was asked (refusal, callback, a
    person, repeat, correction) or a question back the rules matched to a FAQ (the engine answers
    it and asks again). With nothing expected, any finding counts except a question back with no
    FAQ found. Only when this is False is the LLM asked.
    """
    if ext.intents & _ACTIONS or ext.faq:
        return True
    if context.expected and any(_answers(name, ext) for name in context.expected):
        return True
    # nothing answers the question: a question back with no FAQ found is not understood either
    return bool(context.expected) is False and not ext.is_empty() and not getattr(ext, "question", False)


def llm_intents(intents: set[Intent]) -> set[Intent]:
    """The LLM's intents the hybrid may act on: an answer (yes, no, don't know), never an action.

    Measured on the corpus with the local 0.5B model: it labels "на первое время" and "ну 12 числа"
    as ``callback`` and a phone correction as both yes and no. An invented callback, refusal or
    transfer ends a call that was going to book, so those stay the rules' call; a yes together
    with a no says nothing.
    """
    kept = intents & LLM_INTENTS
    return set() if {Intent.YES, Intent.NO} <= kept else kept


def merge_extractions(rules: Extraction, llm: Extraction) -> tuple[Extraction, list[str]]:
    """The merged extraction and the names of the fields the LLM contributed."""
    merged: dict[str, Any] = rules.model_dump(exclude={"source"})
    from_llm: list[str] = []
    for field in LLM_FILLS:
        if merged.get(field) is None and getattr(llm, field) is not None:
            merged[field] = getattr(llm, field)
            from_llm.append(field)
    for field in WHOLE_LISTS:
        value = llm_intents(llm.intents) if field == "intents" else getattr(llm, field)
        if not merged.get(field) and value:
            merged[field] = value
            from_llm.append(field)
    # RULES_WIN fields are never taken from the LLM, even when the rules found nothing: an
    # unverified phone or date is worse than asking again.
    merged["source"] = "hybrid" if from_llm else rules.source
    return Extraction.model_validate(merged), from_llm


class HybridExtractor:
    """Implements ``Extractor``: ``rules`` (deterministic) plus ``llm`` (an ``LLMExtractor``)."""

    name = "hybrid"
    takes_slots = True  # the engine passes the filled slots (the LLM's prompt shows them)

    def __init__(self, rules: Extractor, llm: Extractor, *, budget_s: float,
                 llm_when: Literal["always", "gaps"] = "gaps") -> None:
        self.rules = rules
        self.llm = llm
        self.budget_s = budget_s
        self.llm_when = llm_when
        self.last_llm_fields: list[str] = []
        self.last_fallback: str | None = None

    @property
    def variant_name(self) -> str:
        """The LLM's prompt variant (the metrics label), ``baseline`` when it has none."""
        variant = getattr(self.llm, "variant", None)
        return getattr(variant, "name", None) or "baseline"

    def with_variant(self, name: str) -> HybridExtractor:
        llm = self.llm.with_variant(name) if hasattr(self.llm, "with_variant") else self.llm
        return HybridExtractor(self.rules, llm, budget_s=self.budget_s, llm_when=self.llm_when)

    def _needs_llm(self, rules: Extraction, context: ExtractionContext) -> bool:
        return self.llm_when == "always" or not understood(rules, context)

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
                metrics.HYBRID_TURNS.labels(self.variant_name, "rules").inc()
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
            metrics.HYBRID_TURNS.labels(self.variant_name, "used" if self.last_llm_fields else "nothing").inc()
            return merged
        metrics.HYBRID_TURNS.labels(self.variant_name, "fallback").inc()
        log.info("hybrid extraction fell back to rules",
                 extra={"context": {"state": str(context.state), "reason": self.last_fallback}})
        return rules

    def _llm(self, text: str, context: ExtractionContext, slots: dict[str, Any] | None) -> Extraction:
        if slots is not None:
            return self.llm.extract(text, context, slots=slots)  # type: ignore[call-arg]
        return self.llm.extract(text, context)
