"""Which of the offered times the caller picks by position: "первое", "второй вариант",
"самое раннее", "давайте последнее", "попозже".

Only meaningful right after the agent listed times, so the extractor runs it in that state
alone; elsewhere "первое" may be a date ("на первое") and "попозже" a callback request.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesagent.dialog.extract.numbers import ORDINALS
from salesagent.dialog.extract.text import Utterance

LAST = -1
# lemma -> position (0-based; LAST = the last offered)
_POSITION_WORDS: dict[str, int] = {
    "последний": LAST, "крайний": LAST, "поздний": LAST, "ранний": 0, "средний": 1, "посередине": 1,
    "любой": 0, "любое": 0,  # "любое подойдёт": the first offered
}
# "второе" is also a noun (the main course) to pymorphy3: the neuter forms are read by surface.
_NEUTER_ORDINALS = {"первое": 1, "второе": 2, "третье": 3, "четвертое": 4, "пятое": 5}
_OFFER_NOUNS = frozenset({"время", "вариант", "окно", "окошко", "слот"})
_LATER = frozenset({"позже", "попозже", "позднее", "попозднее"})
_EARLIER = frozenset({"раньше", "пораньше", "ранее"})
# an ordinal followed by these is a date or a duration, not a position
_NOT_POSITION_AFTER = frozenset({"число", "январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
                                 "сентябрь", "октябрь", "ноябрь", "декабрь", "неделя", "месяц", "год", "день",
                                 "половина", "час"})


@dataclass(frozen=True)
class Choice:
    position: int  # 0-based, or LAST
    claimed: frozenset[int]
    relative: bool  # "попозже" / "пораньше": said without naming a position


def extract_choice(utt: Utterance) -> Choice | None:
    toks, lems = utt.tokens, utt.lemmas
    for i, lem in enumerate(lems):
        if utt.lemma_at(i + 1) in _NOT_POSITION_AFTER:
            continue
        if toks[i] in _LATER:
            return Choice(LAST, frozenset({i}), True)
        if toks[i] in _EARLIER:
            return Choice(0, frozenset({i}), True)
        if toks[i].startswith("ближайш"):  # "давайте ближайшее свободное": the times are offered in order
            return Choice(0, frozenset({i}), False)
        ordinal = ORDINALS.get(lem) or _NEUTER_ORDINALS.get(toks[i])
        named = utt.lemma_at(i + 1) in _OFFER_NOUNS  # "на первое время", "во второй вариант"
        if ordinal is not None and ordinal <= 5 and (named or utt.token_at(i - 1) not in ("в", "во", "на", "к")):
            return Choice(ordinal - 1, frozenset({i}), False)
        if lem in _POSITION_WORDS:
            return Choice(_POSITION_WORDS[lem], frozenset({i}), False)
    return None
