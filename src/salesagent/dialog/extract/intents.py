"""Dialog acts (yes/no/decline/callback/human/don't know/correction/repeat) and FAQ questions.

The acts are generic Russian (:mod:`.lexicon`); the FAQ ids come from the profile's triggers. All
act phrases sit in one matcher, so the longest phrase wins where they overlap: "не знаю" is
DONT_KNOW, not NO; "не хочу записываться" is DECLINE, not NO.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from salesagent.dialog.extract import lexicon
from salesagent.dialog.extract.base import Intent
from salesagent.dialog.extract.questions import Span, question_spans, settle_polarity
from salesagent.dialog.extract.text import Utterance
from salesagent.dialog.extract.vocab import PhraseMatcher

_VISIT_VERBS = frozenset({"быть", "ходить", "сходить", "обращаться", "обратиться", "направить", "посетить",
                          "осматривать", "осмотреть", "смотреть", "посмотреть", "отправить", "сказать",
                          "назначить", "посоветовать", "направление", "есть", "советовать"})


# Without a doctor named, only verbs that mean a visit ("был", "ходила", "обращался").
_BARE_VISIT_VERBS = frozenset({"быть", "ходить", "сходить", "обращаться", "обратиться", "посетить"})


@lru_cache(maxsize=1)
def _acts() -> PhraseMatcher:
    entries = [(intent.value, phrase) for intent, phrases in lexicon.INTENT_PHRASES.items() for phrase in phrases]
    return PhraseMatcher(entries, threshold=101)  # exact (surface or lemma) only: acts are short words


def warm_up() -> None:
    _acts()


# Whole answers that Whisper writes for a drawn-out "да" on a phone line ("Дай.", "Даа").
_HEARD_AS_YES = frozenset({("дай",), ("даа",), ("дааа",), ("да", "да", "да")})


@dataclass(frozen=True)
class Acts:
    """The dialog acts of one utterance and whether the caller asked something back."""

    intents: list[Intent]
    question: bool
    spans: tuple[Span, ...] = ()  # the questions' token spans


# A transfer is asked for with a verb or a "с ..." phrase; a bare "администратор" only as the whole answer.
_TRANSFER_LEMMAS = frozenset({"соединить", "переключить", "позвать", "поговорить", "связать", "перевести",
                              "дать", "хотеть", "нужный", "нужно", "пригласить"})


def _transfer_asked(utt: Utterance, start: int, in_question: bool) -> bool:
    """"соедините с администратором", "с человеком", "дайте живого человека", a bare "оператор";
    not "это живой человек?" (a question about the agent, the FAQ answers it)."""
    if utt.token_at(start) in ("с", "со") or any(lem in _TRANSFER_LEMMAS for lem in utt.lemmas):
        return True
    if in_question or utt.lemma_at(start) in ("человек", "живой"):
        return False
    return len([t for t in utt.tokens if t not in lexicon.FILLERS]) <= 2


def _whole_answer(utt: Utterance, match, span) -> bool:
    """"почему бы и нет" is shaped like a question but is an answer: the act covers the clause."""
    start = span.start
    while start < match.start and utt.token_at(start) in lexicon.FILLERS | {"а", "и"}:
        start += 1
    return match.start == start and match.end >= span.end


def extract_acts(utt: Utterance) -> Acts:
    """Acts in utterance order (deduplicated), none taken from inside a question back; at most
    one of YES / NO (the one the caller settled on)."""
    questions = question_spans(utt)
    if tuple(utt.tokens) in _HEARD_AS_YES:
        return Acts([Intent.YES], False)
    seen: list[Intent] = []
    polar: list[tuple[int, Intent]] = []
    matches = _acts().find(utt)
    questions = [q for q in questions if not any(_whole_answer(utt, m, q) for m in matches)]
    for match in matches:
        intent = Intent(match.key)
        in_question = any(match.start in q for q in questions)
        if intent in (Intent.YES, Intent.NO):
            if not in_question:
                polar.append((match.start, intent))
            continue
        if intent == Intent.HUMAN and not _transfer_asked(utt, match.start, in_question):
            continue
        if intent not in seen:
            seen.append(intent)
    settled = settle_polarity(utt, polar)
    if settled is not None:
        seen.insert(0, settled)
    return Acts(seen, bool(questions), tuple(questions))


def visited_doctor(utt: Utterance, asked: bool = False) -> bool | None:
    """"был у невролога", "врач направил" -> True; "к врачу не ходил" -> False; None if not said.

    Answering "вы были у врача?" the doctor goes without saying: "был, девушка", "не ходила".
    """
    lems = utt.lemmas
    if not asked and not any(lem in lexicon.DOCTOR_LEMMAS for lem in lems):
        return None
    visits = _VISIT_VERBS if any(lem in lexicon.DOCTOR_LEMMAS for lem in lems) else _BARE_VISIT_VERBS
    verbs = [i for i, lem in enumerate(lems) if lem in visits or lem in ("направление", "направить")]
    if not verbs:
        return None
    negated = any(utt.token_at(i - 1) in ("не", "нет") for i in verbs) or (lems and lems[0] == "нет")
    return not negated
