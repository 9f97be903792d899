"""Age, weight and a bare number.

"мне сорок пять", "45 лет", "вешу под сто", "около восьмидесяти килограмм". When the agent asked for
age and weight together, a reply of two bare numbers ("сорок пять и восемьдесят") is read in the
order asked. A number with a year unit is an age only with an age cue or when age was asked,
because "болит два года" is a duration.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesagent.dialog.extract import lexicon
from salesagent.dialog.extract.text import Utterance

AGE_RANGE = (1, 120)
WEIGHT_RANGE = (2, 400)
_AGE_CUES = frozenset({"мне", "возраст", "исполнилось", "исполнится", "стукнуло", "лет", "годиков"})
_WEIGHT_CUES = ("вешу", "вес", "весом", "весит", "вешу")
_DURATION_CUES = frozenset({"болеть", "беспокоить", "назад", "течение", "последний", "ныть", "мучить",
                            "продолжаться", "длиться", "уже", "начаться", "тянуть"})
_UNIT_LEMMAS = frozenset({"день", "неделя", "месяц", "год", "лето", "сутки", "час", "минута", "раз", "рубль",
                          "тысяча", "процент", "этаж", "число"})


@dataclass
class Measures:
    age: int | None = None
    weight: int | None = None
    number: int | None = None
    number_index: int | None = None  # not claimed: a duration ("месяца три") may still take it
    claimed: frozenset[int] = frozenset()


def is_weight_unit(token: str) -> bool:
    return token.startswith(lexicon.WEIGHT_UNIT_PREFIXES)


def _in(value: int, bounds: tuple[int, int]) -> bool:
    return bounds[0] <= value <= bounds[1]


def extract_measures(utt: Utterance, claimed: set[int], expected: tuple[str, ...], duration_state: bool) -> Measures:
    toks, lems = utt.tokens, utt.lemmas
    out = Measures()
    used: set[int] = set()
    bare: list[int] = []
    duration_context = duration_state or any(lem in _DURATION_CUES for lem in lems)
    for i in range(len(toks)):
        n = utt.number(i)
        if n is None or i in claimed:
            continue
        nxt, prev = utt.lemma_at(i + 1), toks[i - 1] if i > 0 else ""
        window = set(toks[max(0, i - 3) : i])
        if is_weight_unit(utt.token_at(i + 1)) or any(t.startswith(_WEIGHT_CUES) for t in window):
            if out.weight is None and _in(n, WEIGHT_RANGE):
                out.weight = n
                used.update((i, i + 1) if is_weight_unit(utt.token_at(i + 1)) else (i,))
            continue
        if nxt == "год" or utt.token_at(i + 1) == "лет":
            age_cue = bool(window & _AGE_CUES) or "age" in expected
            if (age_cue or (not duration_context and n >= 14)) and out.age is None and _in(n, AGE_RANGE):
                out.age = n
                used.update((i, i + 1))
            continue
        if nxt in _UNIT_LEMMAS or prev in ("через", "в", "во", "к"):
            continue
        says_age = prev == "мне" or (prev in ("уже", "почти", "скоро") and utt.token_at(i - 2) == "мне")
        if says_age and out.age is None and _in(n, AGE_RANGE):
            out.age = n
            used.add(i)
            continue
        bare.append(i)
    remaining = list(bare)
    for slot in expected:
        if not remaining:
            break
        if slot == "age" and out.age is None and _in(utt.number(remaining[0]) or 0, AGE_RANGE):
            i = remaining.pop(0)
            out.age = utt.number(i)
            used.add(i)
        elif slot == "weight" and out.weight is None and _in(utt.number(remaining[0]) or 0, WEIGHT_RANGE):
            i = remaining.pop(0)
            out.weight = utt.number(i)
            used.add(i)
    if remaining:
        out.number = utt.number(remaining[0])
        out.number_index = remaining[0]
    out.claimed = frozenset(used)
    return out
