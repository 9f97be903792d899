"""Age, weight and a bare number.

A birth year is an age too ("шестьдесят второго года рождения", "я с восемьдесят пятого", "1962
года"), counted from the clinic's clock. A vague age ("сорок с небольшим", "за пятьдесят", "под
шестьдесят") is not stored: the question is asked again rather than writing a wrong age.

"мне сорок пять", "45 лет", "вешу под сто", "около восьмидесяти килограмм". When the agent asked for
age and weight together, a reply of two bare numbers ("сорок пять и восемьдесят") is read in the
order asked. A number with a year unit is an age only with an age cue or when age was asked,
because "болит два года" is a duration.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from salesagent.dialog.extract import lexicon
from salesagent.dialog.extract.numbers import ORDINALS
from salesagent.dialog.extract.text import Utterance

AGE_RANGE = (1, 120)
WEIGHT_RANGE = (2, 400)
_AGE_CUES = frozenset({"мне", "возраст", "исполнилось", "исполнится", "стукнуло", "лет", "годиков"})
_WEIGHT_CUES = ("вешу", "вес", "весом", "весит", "вешу")
_DURATION_CUES = frozenset({"болеть", "беспокоить", "назад", "течение", "последний", "ныть", "мучить",
                            "продолжаться", "длиться", "уже", "начаться", "тянуть"})
_UNIT_LEMMAS = frozenset({"день", "неделя", "месяц", "год", "лето", "сутки", "час", "минута", "раз", "рубль",
                          "тысяча", "процент", "этаж", "число"})


# Ordinals that end a year ("шестьдесят второго", "девяностого", "двухтысячного").
_YEAR_ORDINALS = {**ORDINALS, "сороковой": 40, "пятидесятый": 50, "шестидесятый": 60, "семидесятый": 70,
                  "восьмидесятый": 80, "девяностый": 90, "двухтысячный": 2000, "тысячный": 1000}
_YEAR_CARDINALS = {"двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60,
                   "семьдесят": 70, "восемьдесят": 80, "девяносто": 90, "девятьсот": 900, "тысяча": 1000,
                   "два": 1, "две": 1}  # "две тысячи": the "две" doubles the thousand below
# Cues that make a stated age vague: "сорок с небольшим", "за пятьдесят", "под шестьдесят".
# Only the words that say "over" ("за пятьдесят", "сорок с небольшим"): "около сорока" is an age.
_VAGUE_BEFORE = frozenset({"за", "больше", "более", "свыше"})
_VAGUE_AFTER = frozenset({"небольшим", "хвостиком", "лишним", "копейками", "гаком", "плюс", "минус"})


def _spelled_year_prefix(utt: Utterance, k: int) -> tuple[int, int]:
    """(value, first index) of the cardinal words before token ``k``: "тысяча девятьсот шестьдесят"."""
    value, first, thousands = 0, k, False
    for j in range(k - 1, max(-1, k - 5), -1):
        token, lemma = utt.tokens[j], utt.lemmas[j]
        if token.isdigit() and len(token) <= 4:
            value, first = value + int(token), j
        elif lemma in _YEAR_CARDINALS:
            step = _YEAR_CARDINALS[lemma]
            if lemma in ("два", "две"):
                if not thousands:
                    break
                value, first = value + 1000, j  # "две тысячи" = 1000 counted + 1000
                continue
            thousands = thousands or lemma == "тысяча"
            value, first = value + step, j
        else:
            break
    return value, first


def birth_year_age(utt: Utterance, this_year: int, asked: bool = False) -> tuple[int | None, frozenset[int]]:
    """Age from a birth year said as a year ("шестьдесят второго года рождения", "1962 года",
    "родилась в пятьдесят девятом", "я с восемьдесят пятого" when the age was asked), or (None, {})."""
    toks, lems = utt.tokens, utt.lemmas
    born = any(lem in ("рождение", "родиться") for lem in lems) or any(
        toks[k : k + 2] == ["г", "р"] or toks[k] == "гр" for k in range(len(toks)))  # "1962 г.р."
    for k, lemma in enumerate(lems):
        ordinal = _YEAR_ORDINALS.get(lemma)
        four_digit = toks[k].isdigit() and len(toks[k]) == 4
        if ordinal is None and not four_digit:
            continue
        prefix, first = _spelled_year_prefix(utt, k) if ordinal is not None else (0, k)
        year_after = utt.lemma_at(k + 1) == "год"
        before = utt.token_at(first - 1)
        if not (born or (year_after and (asked or before in ("с", "я"))) or (asked and before == "с")):
            continue
        year = int(toks[k]) if four_digit else prefix + ordinal
        if year < 100:
            year += 2000 if 2000 + year <= this_year else 1900
        age = this_year - year
        if 1900 <= year <= this_year and _in(age, AGE_RANGE):
            return age, frozenset(range(first, k + 2 if year_after else k + 1))
    return None, frozenset()


# Between two numbers these take the first one back: "восемьдесят, нет, семьдесят семь", "97, вру, 84".
_TAKE_BACK = frozenset({"нет", "вернее", "точнее", "ой", "вру", "есть", "смысле", "извините", "простите",
                        "ошиблась", "ошибся", "поправлюсь", "наоборот", "не"})


_BETWEEN_OK = frozenset({"а", "то", "лет", "год", "года", "кг", "килограмм", "килограммов", "кило"})


def _corrections(utt: Utterance) -> dict[int, int]:
    """Number index -> the index of the number that corrects it, when only take-back words and
    fillers stand between them ("80 нет 77 уже")."""
    numbers = [i for i in range(len(utt.tokens)) if utt.number(i) is not None]
    out: dict[int, int] = {}
    for a, b in itertools.pairwise(numbers):
        between = utt.tokens[a + 1 : b]
        if utt.token_at(a - 1) == "не" and between and between[-1] == "а":
            out[a] = b  # "вес не девяносто, а сто сорок"
            continue
        if between and any(t in _TAKE_BACK for t in between) and all(
                t in _TAKE_BACK or t in lexicon.FILLERS or t in _BETWEEN_OK for t in between):
            out[a] = b
    return out


def _nearest_cue(toks: list[str], i: int) -> str | None:
    """"weight" or "age" by the closest cue word up to three tokens before ``i``: in "вес 90
    возраст 20" the 20 is the age although "вес" is also near."""
    for j in range(i - 1, max(-1, i - 4), -1):
        if toks[j].startswith(_WEIGHT_CUES):
            return "weight"
        if toks[j] in _AGE_CUES or toks[j] == "возраст":
            return "age"
        if toks[j].isdigit():
            return None
    return None


def _vague(utt: Utterance, i: int) -> bool:
    return (utt.token_at(i - 1) in _VAGUE_BEFORE or utt.token_at(i + 2) in _VAGUE_AFTER
            or utt.token_at(i + 1) in _VAGUE_AFTER)


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


def extract_measures(utt: Utterance, claimed: set[int], expected: tuple[str, ...], duration_state: bool,
                     this_year: int | None = None) -> Measures:
    toks, lems = utt.tokens, utt.lemmas
    out = Measures()
    used: set[int] = set()
    asked_age = "age" in expected
    if this_year is not None:
        age, by_year = birth_year_age(utt, this_year, asked_age)
        if age is not None and not by_year & claimed:
            out.age = age
            used |= by_year
    bare: list[tuple[int, int]] = []
    duration_context = duration_state or any(lem in _DURATION_CUES for lem in lems)
    corrected = _corrections(utt)
    replaced = set(corrected.values())
    for i in range(len(toks)):
        n = utt.number(i)
        if n is None or i in claimed or i in used or i in replaced:
            continue
        j = i
        while j in corrected:  # the corrected value takes the first one's place and its cues
            j = corrected[j]
        if j != i:
            n = utt.number(j)
            used.update(k for k in range(i, j + 1))
            if n is None:
                continue
        nxt, prev = utt.lemma_at(i + 1), toks[i - 1] if i > 0 else ""
        window = set(toks[max(0, i - 3) : i])
        cue = _nearest_cue(toks, i)
        if is_weight_unit(utt.token_at(i + 1)) or cue == "weight":
            if out.weight is None and _in(n, WEIGHT_RANGE):
                out.weight = n
                used.update((i, i + 1) if is_weight_unit(utt.token_at(i + 1)) else (i,))
            continue
        if asked_age and out.age is None and _vague(utt, i):
            used.add(i)  # "сорок с небольшим": no age is better than a wrong one; asked again
            continue
        if nxt == "год" or utt.token_at(i + 1) == "лет":
            age_cue = bool(window & _AGE_CUES) or "age" in expected
            if (age_cue or (not duration_context and n >= 14)) and out.age is None and _in(n, AGE_RANGE):
                out.age = n
                used.update((i, i + 1))
            continue
        if nxt in _UNIT_LEMMAS or prev in ("через", "в", "во", "к"):
            continue
        says_age = prev == "мне" or cue == "age" or (
            prev in ("уже", "почти", "скоро") and utt.token_at(i - 2) == "мне")
        if says_age and out.age is None and _in(n, AGE_RANGE):
            out.age = n
            used.add(i)
            continue
        bare.append((i, n))
    remaining = list(bare)
    for slot in expected:
        if not remaining:
            break
        i, value = remaining[0]
        if slot == "age" and out.age is None and _in(value, AGE_RANGE):
            out.age = value
        elif slot == "weight" and out.weight is None and _in(value, WEIGHT_RANGE):
            out.weight = value
        else:
            continue
        remaining.pop(0)
        used.add(i)
    if remaining:
        out.number_index, out.number = remaining[0]
    out.claimed = frozenset(used)
    return out
