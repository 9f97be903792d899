"""Does what the caller said so far already answer the question just asked?

Why: on the phone most of a turn's delay is the silence the agent waits out to be sure the caller
has finished (500 ms by default, 700 ms while a phone number is dictated). When the words heard
so far already hold the whole answer ("Да.", a full phone number, "Анна", "в пятницу в десять"),
waiting the rest of that silence only makes the caller wait. The voice engine asks this check
about the speculative transcript it decodes ~200 ms into a pause and ends the turn sooner when the
answer is complete (``SALESAGENT_ASR_ANSWER_COMPLETE_SILENCE_MS``).

The check is conservative on purpose: it reads the rule extractor only (milliseconds, no LLM), is
pure (no session is touched) and says "complete" only for the question's own slot, fully filled.
Open answers (symptoms, the first words of a call) and the safety question always wait for the full endpoint. A wrong
"complete" costs little: a caller who goes on is heard as the next turn, as after any endpoint.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from salesagent import clock
from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.extract.base import Extraction, ExtractionContext, Extractor, Intent
from salesagent.dialog.extract.numbers import words_to_digits
from salesagent.dialog.extract.rules import RuleExtractor
from salesagent.dialog.planner import EXPECTED
from salesagent.dialog.states import State

log = logging.getLogger(__name__)

Criterion = Callable[[Extraction], bool]


def _yes_or_no(ext: Extraction) -> bool:
    return (Intent.YES in ext.intents) != (Intent.NO in ext.intents)


def _refusal(ext: Extraction) -> bool:
    return _yes_or_no(ext) and Intent.NO in ext.intents


#: Per slot the question asks for: when an extraction holds the whole answer.
CRITERIA: dict[str, Criterion] = {
    "client_name": lambda e: bool(e.client_name),
    "phone": lambda e: bool(e.phone),  # and, checked on the text, enough digits as plainly read
    "symptoms_duration": lambda e: bool(e.symptoms_duration),
    "pain_character": lambda e: bool(e.pain_character),
    "visited_doctor": lambda e: e.visited_doctor is not None or _yes_or_no(e),
    "study_type": lambda e: bool(e.modality and e.body_part),
    "yes_no": _yes_or_no,
    "video_conclusion": _yes_or_no,
    "media": _yes_or_no,
    "appointment_datetime": lambda e: e.choice is not None or bool(e.date and (e.date.day or e.date.at)),
    "age": lambda e: e.age is not None,
    "weight": lambda e: e.weight is not None,
    # "contraindications" is never complete early: "нет... хотя, у меня кардиостимулятор" is a safety
    # answer, worth the full endpoint.
    "discount": lambda e: bool(e.discounts) or _refusal(e),
}

#: A number that ends on one of these may go on ("тридцать" ... "два", "девятьсот" ... "пятнадцать"):
#: a caller dictating a phone in groups pauses exactly there, so the answer is not complete yet.
_OPEN_NUMERAL = re.compile(
    r"(?:двадцать|тридцать|сорок|пят?ь?десят|шест?ь?десят|сем?ь?десят|восем?ь?десят|девяносто|сто|двести|"
    r"триста|четыреста|пят?ь?сот|шест?ь?сот|сем?ь?сот|восем?ь?сот|девят?ь?сот|тысяч[аиу]?|[1-9]0|[1-9]00)$")
_LAST_WORD = re.compile(r"([\w-]+)\W*$")
#: A last word that leads on to more: a conjunction, a preposition, a hesitation, a correction begun
#: ("... семьдесят шесть, нет, подождите"), "записывайте" before the number itself.
_LEADS_ON = frozenset({
    "и", "а", "но", "или", "ну", "не", "то", "есть", "вернее", "точнее", "подождите", "погодите", "ой", "э", "э-э",
    "эм", "мм", "значит", "в", "на", "с", "к", "по", "до", "за", "от", "у", "из", "о", "об",
    "записывайте", "пишите", "номер", "телефон",
})


def leads_on(text: str) -> bool:
    """The words stop where more must follow: "... двадцать семь и тридцать" (the number may go on),
    "... шестьдесят шесть, нет" (a correction begun); not "... тридцать два." nor "89266641912"."""
    last = _last_word(text)
    return not last or last in _LEADS_ON or bool(_OPEN_NUMERAL.fullmatch(last))


def plain_digits(text: str) -> int:
    """Digits in ``text`` read the plain way, numerals joined across Whisper's commas
    ("девятьсот, шестнадцать" is 916): the extractor may split them to reach eleven digits."""
    joined = re.sub(r"[^\w\s-]", " ", text.lower())
    return sum(ch.isdigit() for ch in words_to_digits(joined))


def _last_word(text: str) -> str:
    match = _LAST_WORD.search(text.lower().replace("ё", "е"))
    return match.group(1) if match else ""


_YES_NO_SLOTS = frozenset({"yes_no", "video_conclusion", "media", "visited_doctor", "discount"})

#: Whatever the question, these leave the script: the caller has said what they had to say.
_LEAVING = frozenset({Intent.CALLBACK, Intent.HUMAN, Intent.DECLINE})


class AnswerCheck:
    """``complete(state, text)``: True when ``text`` alone answers the question of ``state``."""

    def __init__(self, profile: ClinicProfile, extractor: Extractor | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.profile = profile
        self.extractor = extractor or RuleExtractor()
        self._now = now or (lambda: clock.now(profile.tz))

    def complete(self, state: str, text: str) -> bool:
        """Never raises: a check that fails is "not complete" (the turn waits its full endpoint)."""
        try:
            st = State(state)
        except ValueError:
            return False
        expected = EXPECTED.get(st, ())
        if not expected or not text.strip() or leads_on(text):
            return False
        if _last_word(text) == "нет" and not set(expected) & _YES_NO_SLOTS:
            return False  # "... шестьдесят шесть, нет": a correction of what was just said begins
        try:
            ext = self.extractor.extract(text, ExtractionContext(state=st, now=self._now(), profile=self.profile,
                                                                 expected=expected))
        except Exception:
            log.exception("answer check failed", extra={"context": {"state": state}})
            return False
        if ext.intents & _LEAVING:
            return True
        if ext.question or Intent.CORRECTION in ext.intents or Intent.REPEAT in ext.intents:
            return False  # a question back or a correction often runs on past a short pause
        if "phone" in expected and plain_digits(text) < 10:
            return False  # "восемь, девятьсот, шестнадцать, сто двадцать три": 7 digits, not 11 split thin
        return all(CRITERIA.get(slot, _never)(ext) for slot in expected)


def _never(_ext: Extraction) -> bool:
    return False
