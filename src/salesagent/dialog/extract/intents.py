"""Dialog acts (yes/no/decline/callback/human/don't know/correction/repeat) and FAQ questions.

The acts are generic Russian (:mod:`.lexicon`); the FAQ ids come from the profile's triggers. All
act phrases sit in one matcher, so the longest phrase wins where they overlap: "не знаю" is
DONT_KNOW, not NO; "не хочу записываться" is DECLINE, not NO.
"""

from __future__ import annotations

from functools import lru_cache

from salesagent.dialog.extract import lexicon
from salesagent.dialog.extract.base import Intent
from salesagent.dialog.extract.text import Utterance
from salesagent.dialog.extract.vocab import PhraseMatcher

_VISIT_VERBS = frozenset({"быть", "ходить", "сходить", "обращаться", "обратиться", "направить", "посетить",
                          "осматривать", "осмотреть", "смотреть", "посмотреть", "отправить", "сказать",
                          "назначить", "посоветовать", "направление", "есть", "советовать"})


@lru_cache(maxsize=1)
def _acts() -> PhraseMatcher:
    entries = [(intent.value, phrase) for intent, phrases in lexicon.INTENT_PHRASES.items() for phrase in phrases]
    return PhraseMatcher(entries, threshold=101)  # exact (surface or lemma) only: acts are short words


def warm_up() -> None:
    _acts()


# Whole answers that Whisper writes for a drawn-out "да" on a phone line ("Дай.", "Даа").
_HEARD_AS_YES = frozenset({("дай",), ("даа",), ("дааа",), ("да", "да", "да")})


def extract_acts(utt: Utterance) -> list[Intent]:
    """Acts in utterance order (deduplicated)."""
    if tuple(utt.tokens) in _HEARD_AS_YES:
        return [Intent.YES]
    seen: list[Intent] = []
    for match in _acts().find(utt):
        intent = Intent(match.key)
        if intent not in seen:
            seen.append(intent)
    return seen


def visited_doctor(utt: Utterance) -> bool | None:
    """"был у невролога", "врач направил" -> True; "к врачу не ходил" -> False; None if not said."""
    lems = utt.lemmas
    if not any(lem in lexicon.DOCTOR_LEMMAS for lem in lems):
        return None
    verbs = [i for i, lem in enumerate(lems) if lem in _VISIT_VERBS or lem in ("направление", "направить")]
    if not verbs:
        return None
    negated = any(utt.token_at(i - 1) in ("не", "нет") for i in verbs) or (lems and lems[0] == "нет")
    return not negated
