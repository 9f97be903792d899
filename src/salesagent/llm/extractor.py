"""The LLM extractor: schema-constrained JSON from any OpenAI-compatible server.

It returns the same :class:`Extraction` as the rules, so the engine does not know which one ran.
Everything the model says is checked against the clinic profile before it leaves this module
(:func:`validate_against_profile`): a study area, modality, contraindication, discount or FAQ id
the clinic does not have is dropped (counted in ``salesagent_llm_rejected_values_total``), a
phone must be a full Russian number, an age/weight must be plausible, a date must parse.

``extract()`` never raises and never runs past the client's budget: on timeout or error it logs
and returns an empty Extraction; the hybrid extractor then keeps the rules' result.
"""

from __future__ import annotations

import logging
import re
from datetime import date, time
from typing import Any

from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.extract.base import DateRequest, Extraction, ExtractionContext, Intent
from salesagent.llm import metrics
from salesagent.llm.client import ChatClient, LLMBadResponse, LLMError, parse_json_object
from salesagent.llm.config import LLMSettings
from salesagent.llm.prompts import extraction_request, extraction_schema, trim_history
from salesagent.llm.variants import DEFAULT_VARIANTS, PromptVariant, VariantSet

log = logging.getLogger(__name__)

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_NAME = re.compile(r"^[А-ЯЁа-яё][А-ЯЁа-яё\-]{1,30}$")


def _phone(value: str | None) -> str | None:
    """+7XXXXXXXXXX from the digits the model wrote, or None when they are not a full number."""
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    return None


def _short(value: str | None, limit: int) -> str | None:
    if not value:
        return None
    text = " ".join(str(value).split())
    return text[:limit] if text else None


def _words(text: str) -> list[str]:
    return re.findall(r"[а-я]+", text.lower().replace("ё", "е"))


def grounded_name(name: str, text: str) -> str | None:
    """The caller's name as said in ``text`` ("Имя" or "Имя Отчество"), or None.

    A name the caller did not say is the small model copying its examples ("Татьяна" for "так
    любовь петровна"); a word that is no first name is a filler it took for one ("Ой", "Мм").
    Both are checked with the same morphology the rules use: the first word must be a first name
    (pymorphy3 ``Name``) whose stem is in the utterance; a patronymic is kept when said too.
    """
    from salesagent.dialog.extract.morph import has_grammeme, name_nominative

    said = _words(text)
    parts = _words(name)
    if not parts:
        return None
    first = name_nominative(parts[0])
    stem = parts[0][: max(3, len(parts[0]) - 2)]
    if first is None or not any(w.startswith(stem) for w in said):
        return None
    for word in parts[1:2]:
        if has_grammeme(word, "Patr") and any(w.startswith(word[: max(4, len(word) - 2)]) for w in said):
            return f"{first} {name_nominative(word) or word.capitalize()}"
    return first


def _reject(field: str, value: Any, variant: str) -> None:
    metrics.REJECTED_VALUES.labels(field, variant).inc()
    log.info("LLM value rejected by the profile", extra={"context": {"field": field, "value": str(value)[:80]}})


def validate_against_profile(raw: dict[str, Any], profile: ClinicProfile, variant: str = "baseline") -> Extraction:
    """An Extraction from the model's JSON, keeping only values the profile and the formats allow."""
    out: dict[str, Any] = {"source": "llm"}
    name = _short(raw.get("client_name"), 40)
    if name:
        first = name.split()[0]
        if _NAME.match(first):
            out["client_name"] = first[:1].upper() + first[1:].lower()
        else:
            _reject("client_name", name, variant)
    phone = _phone(raw.get("phone"))
    if phone:
        out["phone"] = phone
    elif raw.get("phone"):
        _reject("phone", raw.get("phone"), variant)
    for field, low, high in (("age", 1, 110), ("weight", 3, 300)):
        value = raw.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            if low <= value <= high:
                out[field] = value
            else:
                _reject(field, value, variant)
    for field, limit in (("symptoms", 200), ("symptoms_duration", 40), ("pain_character", 40)):
        text = _short(raw.get(field), limit)
        if text:
            out[field] = text
    for field, known in (("modality", profile.modalities), ("body_part", profile.body_parts)):
        value = raw.get(field)
        if value is None:
            continue
        if value in known:
            out[field] = value
        else:
            _reject(field, value, variant)
    for field, ids in (("contraindications", {c.id for c in profile.contraindications}),
                       ("discounts", {d.id for d in profile.discounts}), ("faq", {f.id for f in profile.faq})):
        kept: list[str] = []
        for value in raw.get(field) or []:
            if value in ids and value not in kept:
                kept.append(value)
            elif value not in ids:
                _reject(field, value, variant)
        if kept:
            out[field] = kept
    intents = set()
    for value in raw.get("intents") or []:
        try:
            intents.add(Intent(value))
        except ValueError:
            _reject("intents", value, variant)
    if intents:
        out["intents"] = intents
    request = _date_request(raw, variant)
    if request is not None:
        out["date"] = request
    return Extraction(**out)


def _date_request(raw: dict[str, Any], variant: str) -> DateRequest | None:
    day: date | None = None
    at: time | None = None
    if raw.get("day"):
        try:
            day = date.fromisoformat(str(raw["day"]))
        except ValueError:
            _reject("day", raw["day"], variant)
    if raw.get("time"):
        match = _TIME.match(str(raw["time"]))
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            at = time(int(match[1]), int(match[2]))
        else:
            _reject("time", raw["time"], variant)
    part = raw.get("part_of_day") if raw.get("part_of_day") in ("morning", "afternoon", "evening") else None
    if day is None and at is None and part is None:
        return None
    return DateRequest(day=day, at=at, part_of_day=part)


class LLMExtractor:
    """Extraction by an LLM within the settings' time budget. Implements ``Extractor``."""

    name = "llm"
    takes_slots = True  # the engine passes the filled slots (the prompt shows them)

    def __init__(self, settings: LLMSettings, client: ChatClient | None = None,
                 variants: VariantSet | None = None, variant: str | None = None) -> None:
        self.settings = settings
        self.client = client or ChatClient(settings)
        self.variants = variants or DEFAULT_VARIANTS
        self.variant: PromptVariant = self.variants.get(variant) if variant else self.variants.variants[0]
        self.last_raw: str | None = None

    def with_variant(self, name: str) -> LLMExtractor:
        """The same extractor (shared HTTP client) speaking prompt variant ``name`` (one per session)."""
        return LLMExtractor(self.settings, self.client, self.variants, name)

    def warm_up(self, profile: ClinicProfile, budget_s: float = 120.0) -> bool:
        """Send the static prompt prefix once so the server's prefix cache holds it before calls arrive."""
        from salesagent.clock import now

        try:
            messages = extraction_request(profile=profile, variant=self.variant, text="да", state="GREETING",
                                          expected=(), now=now(profile.tz), history=[], slots=None)
            self.client.complete(messages, operation="warmup", variant=self.variant.name, max_tokens=1,
                                 budget_s=budget_s)
            return True
        except LLMError:
            return False

    def extract(self, text: str, context: ExtractionContext, slots: dict[str, Any] | None = None) -> Extraction:
        """Never raises; an empty ``Extraction(source="llm")`` when the LLM gives nothing usable.

        ``slots`` (the filled slots, ``DialogSlots.filled()``) is optional because the Protocol's
        context does not carry them; a ``slots`` attribute on the context is used when present.
        """
        self.last_raw = None
        try:
            known = slots if slots is not None else getattr(context, "slots", None)
            if hasattr(known, "filled"):
                known = known.filled()
            history = trim_history(context.history, self.settings.history_messages,
                                   self.settings.context_token_budget)
            messages = extraction_request(
                profile=context.profile, variant=self.variant, text=text[:1000], state=str(context.state),
                expected=context.expected, now=context.now, history=history, slots=known,
            )
            raw = self.client.complete(
                messages, operation="extract", variant=self.variant.name, schema=extraction_schema(context.profile),
                schema_name="SlotAnswer", max_tokens=self.settings.extract_max_tokens,
                temperature=self.variant.temperature,
            )
            self.last_raw = raw
            try:
                data = parse_json_object(raw)
            except ValueError as exc:
                metrics.FAILURES.labels("extract", self.variant.name, "bad_json").inc()
                raise LLMBadResponse(f"not a JSON object: {raw[:120]!r}") from exc
            # field by field, not model_validate: one unknown id must not cost the valid values
            # (a server without constrained decoding can write anything)
            out = validate_against_profile(data, context.profile, self.variant.name)
            if data.get("client_name"):
                name = grounded_name(str(data["client_name"]), text)
                if name is None and out.client_name is not None:
                    _reject("client_name", data["client_name"], self.variant.name)
                out.client_name = name
            return out
        except LLMError as exc:
            metrics.FALLBACKS.labels("extract", self.variant.name, exc.reason).inc()
            return Extraction(source="llm")
        except Exception:
            metrics.FALLBACKS.labels("extract", self.variant.name, "error").inc()
            log.exception("LLM extraction crashed", extra={"context": {"state": str(context.state)}})
            return Extraction(source="llm")
