"""Grounded rephrasing of template replies and grounded answers to off-script questions.

The template reply is always the safe answer: it is returned when rephrasing is disabled, when
the state is mandatory (safety questions, prices, read-backs: their wording is fixed), when the
LLM times out or fails, and when the LLM's text states anything the profile and the slots do not
(:func:`~salesagent.llm.grounding.check_grounded`) or drops the question the template asks. Each
fallback is logged and counted in ``salesagent_llm_fallbacks_total{operation="rephrase"}``.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from salesagent.clinic.profile import ClinicProfile
from salesagent.llm import metrics
from salesagent.llm.client import ChatClient, LLMError
from salesagent.llm.config import LLMSettings
from salesagent.llm.grounding import check_grounded
from salesagent.llm.prompts import answer_request, rephrase_request, trim_history
from salesagent.llm.variants import DEFAULT_VARIANTS, VariantSet

if TYPE_CHECKING:  # types only: the LLM package does not import the dialog engine's state
    from salesagent.dialog.slots import DialogSlots

log = logging.getLogger(__name__)

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_FOREIGN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]|[a-z]{4,}", re.IGNORECASE)
MAX_REPLY_CHARS = 400

History = list[tuple[str, str]] | tuple[tuple[str, str], ...] | None


def clean_reply(text: str) -> str:
    """One line of speakable Russian: no quotes, labels or markdown around it."""
    text = text.strip().strip('"«»`*').strip()
    text = re.sub(r"^(агент|администратор|ответ|реплика)\s*:\s*", "", text, flags=re.IGNORECASE)
    return " ".join(text.split())[:MAX_REPLY_CHARS]


class GroundedRephraser:
    """LLM wording over template replies, never at the expense of a fact."""

    def __init__(self, settings: LLMSettings, client: ChatClient | None = None,
                 variants: VariantSet | None = None) -> None:
        self.settings = settings
        self.client = (client or ChatClient(settings)) if settings.rephrase else client
        self.variants = variants or DEFAULT_VARIANTS
        self.last_reason: str | None = None
        self.last_violations: list[str] = []

    def _fallback(self, operation: str, variant: str, reason: str, **context: Any) -> None:
        self.last_reason = reason
        metrics.FALLBACKS.labels(operation, variant, reason).inc()
        log.info("LLM reply not used", extra={"context": {"operation": operation, "variant": variant,
                                                          "reason": reason, **context}})

    def rephrase(self, state: str, template_reply: str, slots: DialogSlots, profile: ClinicProfile,
                 history: History = None, variant: str | None = None) -> str:
        """The LLM's wording of ``template_reply``, or ``template_reply`` itself. Never raises."""
        chosen = self.variants.get(variant) if variant else self.variants.variants[0]
        self.last_reason, self.last_violations = None, []
        if not self.settings.rephrase or self.client is None:
            self.last_reason = "disabled"
            return template_reply
        if str(state) in self.settings.mandatory_states:
            self.last_reason = "mandatory"
            return template_reply
        try:
            messages = rephrase_request(
                profile=profile, variant=chosen, state=str(state), template_reply=template_reply,
                history=trim_history(history or (), self.settings.history_messages,
                                     self.settings.context_token_budget),
                slots=slots.filled(),
            )
            text = clean_reply(self.client.complete(
                messages, operation="rephrase", variant=chosen.name, max_tokens=self.settings.reply_max_tokens,
                temperature=chosen.temperature,
            ))
        except LLMError as exc:
            self._fallback("rephrase", chosen.name, exc.reason, state=str(state))
            return template_reply
        except Exception:
            log.exception("rephrase crashed", extra={"context": {"state": str(state)}})
            self._fallback("rephrase", chosen.name, "error", state=str(state))
            return template_reply
        problem = self._judge(text, template_reply, slots, profile)
        if problem:
            self._fallback("rephrase", chosen.name, problem, state=str(state), reply=text[:200],
                           violations=self.last_violations)
            return template_reply
        return text

    def answer(self, question: str, slots: DialogSlots, profile: ClinicProfile, history: History = None,
               variant: str | None = None) -> str | None:
        """A grounded answer to an off-script question, or ``None`` (the engine then uses its own)."""
        chosen = self.variants.get(variant) if variant else self.variants.variants[0]
        self.last_reason, self.last_violations = None, []
        if not self.settings.rephrase or self.client is None:
            self.last_reason = "disabled"
            return None
        try:
            messages = answer_request(
                profile=profile, variant=chosen, question=question[:500],
                history=trim_history(history or (), self.settings.history_messages,
                                     self.settings.context_token_budget),
                slots=slots.filled(),
            )
            text = clean_reply(self.client.complete(
                messages, operation="answer", variant=chosen.name, max_tokens=self.settings.reply_max_tokens,
                temperature=chosen.temperature,
            ))
        except LLMError as exc:
            self._fallback("answer", chosen.name, exc.reason)
            return None
        except Exception:
            log.exception("answer crashed")
            self._fallback("answer", chosen.name, "error")
            return None
        problem = self._judge(text, "", slots, profile)
        if problem:
            self._fallback("answer", chosen.name, problem, reply=text[:200], violations=self.last_violations)
            return None
        return text

    def _judge(self, text: str, template_reply: str, slots: DialogSlots, profile: ClinicProfile) -> str | None:
        """Why ``text`` may not be said, or None."""
        if not text or not _CYRILLIC.search(text):
            return "not_russian"
        if _FOREIGN.search(text):
            return "foreign_text"
        if template_reply and "?" in template_reply and "?" not in text:
            return "question_dropped"
        self.last_violations = check_grounded(text, profile, slots, reference=template_reply)
        return "ungrounded" if self.last_violations else None
