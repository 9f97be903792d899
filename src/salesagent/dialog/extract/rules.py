"""The deterministic extractor: rules over lemmas and the profile's vocabulary, milliseconds on CPU.

It runs first on every turn; the LLM extractor is only needed for what these rules cannot parse.
Each sub-extractor claims the tokens it used, in an order that settles ambiguities: a phone
claims its digits before a date can read "в 10" out of them, a date claims "в три" before a bare
number, an age claims "сорок пять лет" before a duration. A sub-extractor that fails (a bug, a
third-party parser choking on odd input) is logged and costs only its own slots: ``extract``
never raises.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.extract import morph, names, numbers
from salesagent.dialog.extract.base import Extraction, ExtractionContext, Intent
from salesagent.dialog.extract.choice import extract_choice
from salesagent.dialog.extract.complaints import (
    complaint_text,
    extract_pain_character,
    is_complaint,
)
from salesagent.dialog.extract.config import ExtractSettings, get_extract_settings
from salesagent.dialog.extract.dates import extract_date
from salesagent.dialog.extract.durations import extract_duration
from salesagent.dialog.extract.intents import Acts, extract_acts, visited_doctor
from salesagent.dialog.extract.intents import warm_up as warm_intents
from salesagent.dialog.extract.measures import extract_measures
from salesagent.dialog.extract.phone import extract_phone
from salesagent.dialog.extract.safety import pregnancy_term
from salesagent.dialog.extract.text import Utterance
from salesagent.dialog.extract.vocab import Match, vocabulary_for
from salesagent.dialog.states import State

log = logging.getLogger(__name__)
T = TypeVar("T")

WARM_ROUNDS = 10
_WARM_TEXTS = ("я ольга хочу на мрт колена в пятницу в десять", "восемь девятьсот шестнадцать сто двадцать три",
               "болит спина уже две недели", "меня зовут иван петрович")
_ANSWER_ONLY = frozenset({Intent.NO, Intent.DONT_KNOW, Intent.DECLINE, Intent.CALLBACK, Intent.HUMAN,
                          Intent.REPEAT})


_HAVING = frozenset({"бояться", "быть", "стоять", "иметь", "ставить", "страдать", "наблюдаться", "испытывать",
                     "беспокоить", "носить", "установить"})
_REMOVED = frozenset({"снять", "удалить", "вынуть", "убрать", "достать", "извлечь", "вытащить"})
_NEGATIONS = frozenset({"не", "нет", "без", "никаких", "никакого", "никакой", "ни", "нету"})
# Words that open a new clause: a "нет" before them answers the question, not the noun after.
_CLAUSE_MARKS = frozenset({"у", "меня", "есть", "стоит", "но", "а", "и", "да", "зато"})


def _negated(utt: Utterance, m: Match) -> bool:
    """"нет кардиостимулятора", "без пластин", "кардиостимулятора нет", "не беременна",
    "у меня нет помпы" are denials; "нет, у меня кардиостимулятор" is not (safety first: the
    "нет" answers the question and the noun stands in the nominative)."""
    if any(t in ("нет", "нету") for t in utt.tokens[m.end : m.end + 2]):
        return True
    if utt.token_at(m.end) == "не" and utt.lemma_at(m.end + 1) in _HAVING:
        return True  # "замкнутого пространства не боюсь", "кардиостимулятора не ставили"
    if any(lem in _REMOVED for lem in utt.lemmas[m.end : m.end + 5]):
        return True  # "была пластина, но её сняли": nothing left to rule the MRI out
    first_before = max(0, m.start - 4)
    before = utt.tokens[first_before : m.start]
    for i in range(len(before) - 1, -1, -1):
        token = before[i]
        if token == "не" and _negates_other_verb(utt, first_before + i + 1):
            return False  # "не расслышал, помпа стоит", "не выдержу в трубе": the "не" is the verb's
        if token in _NEGATIONS:
            return True
        if token in _CLAUSE_MARKS:
            # "нет у меня кардиостимулятора" (genitive) is still a denial
            negated_clause = any(t in _NEGATIONS for t in before[:i])
            first = utt.tokens[m.start] if m.start < len(utt.tokens) else ""
            return negated_clause and morph.has_grammeme(first, "gent", 0.2)
    return False


def _negates_other_verb(utt: Utterance, i: int) -> bool:
    """The word after a "не" is a verb other than having / fearing: the "не" denies that verb."""
    word = utt.token_at(i)
    verb = morph.has_grammeme(word, "VERB", 0.3) or morph.has_grammeme(word, "INFN", 0.3)
    return verb and utt.lemma_at(i) not in _HAVING


_DICTATION_NUMBERS = 4  # number groups in one answer to "your phone?" that make it a dictation


class RuleExtractor:
    """Implements :class:`~salesagent.dialog.extract.base.Extractor` with rules only."""

    name = "rules"

    def __init__(self, settings: ExtractSettings | None = None) -> None:
        self.settings = settings or get_extract_settings()

    def warm_up(self, profile: ClinicProfile | None = None) -> None:
        """Load pymorphy3, words2num2, natasha and (given a profile) its vocabulary now, not mid-call."""
        started = time.perf_counter()
        morph.analyzer()
        numbers.warm_up()
        warm_intents()
        if self.settings.ner:
            names.warm_up()
        if profile is not None:
            vocabulary_for(profile, self.settings.fuzzy_threshold)
            # first runs of the NER network and the matchers are slow (page faults, caches): pay now
            from salesagent import clock

            ctx = ExtractionContext(state=State.GREETING, now=clock.now(profile.tz), profile=profile,
                                    expected=("client_name",))
            for _ in range(WARM_ROUNDS):
                for text in _WARM_TEXTS:
                    self.extract(text, ctx)
        log.info("rule extractor warm", extra={"context": {"seconds": round(time.perf_counter() - started, 3)}})

    def _guard(self, what: str, fn: Callable[[], T], default: T) -> T:
        try:
            return fn()
        except Exception as exc:
            log.error("extractor step failed", exc_info=True,
                      extra={"context": {"step": what, "error": repr(exc)}})
            return default

    def extract(self, text: str, context: ExtractionContext) -> Extraction:
        if not isinstance(text, str) or not text.strip():
            return Extraction()
        if len(text) > self.settings.max_chars:
            log.warning("utterance cut", extra={"context": {"chars": len(text), "max": self.settings.max_chars}})
            text = text[: self.settings.max_chars]
        try:
            return self._extract(text, context)
        except Exception as exc:  # last line: a turn must never crash the call
            log.error("rule extraction failed", exc_info=True, extra={"context": {"error": repr(exc)}})
            return Extraction()

    def _extract(self, text: str, ctx: ExtractionContext) -> Extraction:
        utt = Utterance(text)
        out = Extraction()
        expected = ctx.expected
        claimed: set[int] = set()
        intents: set[Intent] = set()

        asked_phone = "phone" in expected
        phone = self._guard("phone", lambda: extract_phone(utt, asked_phone, ctx.phone_so_far), None)
        if phone is not None:
            out.phone, out.phone_tail, out.phone_partial = phone.phone, phone.tail, phone.partial
            claimed |= phone.claimed

        choice = None
        if ctx.state == State.OFFER_APPOINTMENT_TIMES:
            choice = self._guard("choice", lambda: extract_choice(utt), None)
            if choice is not None:
                out.choice = choice.position
                claimed |= choice.claimed

        # A number being dictated that did not parse as a phone (ASR dropped a group) is a garbled
        # phone, not "16:20": it must not move the booking. The question is asked again instead.
        no_phone = phone is None or (phone.phone is None and phone.tail is None and phone.partial is None)
        dictating = (phone is not None and phone.partial is not None) or (
            no_phone and asked_phone and sum(t.isdigit() for t in utt.tokens) >= _DICTATION_NUMBERS)
        duration_state = ctx.state == State.ASK_SYMPTOMS_DURATION or "symptoms_duration" in expected
        early_duration: tuple[str | None, frozenset[int]] = (None, frozenset())
        if duration_state:  # "часа три" answers "how long", it is no 15:00
            early_duration = self._guard("duration", lambda: extract_duration(utt, claimed, True), early_duration)
            claimed |= early_duration[1]
        dated = None if dictating else self._guard(
            "date", lambda: extract_date(utt, ctx.now, ctx.profile, claimed, expected), None)
        if dated is not None and dated.request is not None:
            out.date = dated.request
            claimed |= dated.claimed
            if dated.correction:
                intents.add(Intent.CORRECTION)

        # digits of a number being dictated are no age or weight ("..., не 80 а 77" is then a group)
        measures = None if dictating else self._guard(
            "measures", lambda: extract_measures(utt, claimed, expected, duration_state, ctx.now.year), None)
        if measures is not None:
            out.age, out.weight = measures.age, measures.weight
            claimed |= measures.claimed

        duration = early_duration if early_duration[0] else self._guard(
            "duration", lambda: extract_duration(utt, claimed, duration_state), (None, frozenset()))
        out.symptoms_duration = duration[0]
        claimed |= duration[1]
        if measures is not None and measures.number_index not in claimed:
            out.number = measures.number

        self._vocabulary(utt, ctx, out, intents)
        out.pain_character = self._guard("pain", lambda: extract_pain_character(utt), None)

        want_name = "client_name" in expected or ctx.state == State.ASK_CLIENT_NAME
        out.client_name = self._guard("name", lambda: names.extract_name(utt, want_name, self.settings.ner), None)

        acts = self._guard("intents", lambda: extract_acts(utt), Acts([], False))
        if acts.intents and (Intent.YES in acts.intents or Intent.NO in acts.intents):
            intents.difference_update({Intent.YES, Intent.NO})  # the settled polarity wins over a negated noun
        intents.update(acts.intents)
        out.question = acts.question
        if acts.spans and not out.faq:
            out.faq = self._guard("faq_keywords", lambda: self._asked_topics(utt, ctx, acts.spans), [])
        if Intent.HUMAN in intents:
            out.faq = [f for f in out.faq if f != "robot"]  # "соедините с живым человеком" is no question
        if choice is not None and choice.relative and not any(lem.startswith(("перезвон", "позвон", "звон"))
                                                              for lem in utt.lemmas):
            intents.discard(Intent.CALLBACK)  # "давайте попозже" after a list of times picks a later one
        asked = "visited_doctor" in expected or ctx.state == State.ASK_VISITED_DOCTOR
        visited = self._guard("visited_doctor", lambda: visited_doctor(utt, asked), None)
        if visited is not None and asked:
            intents.discard(Intent.NO if visited else Intent.YES)
            intents.add(Intent.YES if visited else Intent.NO)
        out.visited_doctor = visited  # "врач направил на МРТ" at the greeting answers that question too
        if Intent.CORRECTION in intents and out.date is not None and out.date.not_day is not None:
            intents.discard(Intent.NO)  # "нет, не в пятницу, а в субботу" corrects, it does not refuse
        out.intents = intents

        vocab = vocabulary_for(ctx.profile, self.settings.fuzzy_threshold)
        complaint = self._guard("complaint", lambda: is_complaint(utt, vocab.symptom_words), False)
        asked = "symptoms" in expected or ctx.state == State.ASK_SYMPTOMS
        answer_only = bool(intents & _ANSWER_ONLY) and not complaint
        asking = out.faq or out.not_offered or out.question  # "а рентген лёгких делаете?" is no complaint
        if complaint or (asked and not answer_only and not asking and (out.body_part or len(utt.words) >= 3)):
            out.symptoms = complaint_text(text, utt, vocab.symptom_words)
        return out

    def _asked_topics(self, utt: Utterance, ctx: ExtractionContext, spans) -> list[str]:
        """FAQ ids named by a topic word inside a question back (one per question)."""
        vocab = vocabulary_for(ctx.profile, self.settings.fuzzy_threshold)
        found: list[str] = []
        matches = vocab.faq_keywords.find(utt)
        for span in spans:
            hit = next((m.key for m in matches if m.start in span), None)
            if hit is not None and hit not in found:
                found.append(hit)
        return found

    def _vocabulary(self, utt: Utterance, ctx: ExtractionContext, out: Extraction, intents: set[Intent]) -> None:
        vocab = self._guard("vocabulary", lambda: vocabulary_for(ctx.profile, self.settings.fuzzy_threshold), None)
        if vocab is None:
            return

        def keys(matches: list[Match], skip_negated: bool = False) -> list[str]:
            found: list[str] = []
            for m in matches:
                if skip_negated and _negated(utt, m):
                    intents.add(Intent.NO)
                    continue
                if m.key not in found:
                    found.append(m.key)
            return found

        modalities = self._guard("modality", lambda: keys(
            [m for m in vocab.modalities.find(utt) if utt.token_at(m.start - 1) not in ("вместо", "кроме")]), [])
        out.modality = modalities[0] if modalities else None
        parts = self._guard("body_part", lambda: keys(vocab.body_parts.find(utt)), [])
        if not parts:
            parts = self._guard("symptom", lambda: keys(vocab.symptoms.find(utt)), [])
        out.body_part = parts[0] if parts else None
        out.contraindications = self._guard(
            "contraindications", lambda: keys(vocab.contraindications.find(utt), skip_negated=True), []
        )
        if self._guard("pregnancy", lambda: bool(pregnancy_term(utt)), False):
            for item in ctx.profile.contraindications:
                if item.pregnancy and item.id not in out.contraindications:
                    out.contraindications.append(item.id)
        out.discounts = self._guard("discounts", lambda: keys(vocab.discounts.find(utt), skip_negated=True), [])
        out.faq = self._guard("faq", lambda: keys(vocab.faq.find(utt)), [])
        out.not_offered = self._guard("not_offered", lambda: keys(vocab.not_offered.find(utt)), [])
