"""How long the complaint lasts, normalised so that every lead reads and sorts the same.

Callers count in cardinals ("две недели", "пару дней", "двое суток", "месяца три"), in ordinals
("третью неделю", "второй месяц" = it has been going on that many), with a bare unit ("месяц
примерно", "неделю уже"), or from a point in time ("с весны", "с прошлого лета", "с понедельника").
The stored text agrees in Russian: "5 лет", "2 суток", "полторы недели", never "5 годов".
"""

from __future__ import annotations

from dataclasses import dataclass

from salesagent.dialog import russian
from salesagent.dialog.extract import lexicon
from salesagent.dialog.extract.numbers import ORDINALS, lemma_number
from salesagent.dialog.extract.text import Utterance


@dataclass(frozen=True)
class Unit:
    one: str
    few: str
    many: str
    feminine: bool = False

    def count(self, n: float) -> str:
        if n == 1.5:
            return ("полторы " if self.feminine else "полтора ") + self.few
        whole = int(n)
        return f"{whole} {russian.plural(whole, self.one, self.few, self.many)}"


UNITS: dict[str, Unit] = {
    "день": Unit("день", "дня", "дней"),
    "сутки": Unit("сутки", "суток", "суток"),
    "неделя": Unit("неделя", "недели", "недель", feminine=True),
    "месяц": Unit("месяц", "месяца", "месяцев"),
    "год": Unit("год", "года", "лет"),
    "час": Unit("час", "часа", "часов"),
}
# pymorphy3 gives "лет" the lemma "лето"; after a number it is years.
_UNIT_LEMMAS = {"день": "день", "сутки": "сутки", "неделя": "неделя", "месяц": "месяц", "год": "год",
                "час": "час", "лето": "год"}
_COLLECTIVE = {"двое": 2, "трое": 3, "четверо": 4, "пятеро": 5, "шестеро": 6, "семеро": 7}
# Before a bare unit these say "about one" ("уже неделю", "где-то месяц", "с месяц").
_ONE_CUES = frozenset({"уже", "около", "где", "то", "почти", "больше", "целый", "целую", "весь", "всю", "с",
                       "примерно", "приблизительно", "наверное", "порядка", "меньше", "за"})
_SEASONS = frozenset({"весна", "лето", "осень", "зима"})
_SINCE_ADJECTIVES = frozenset({"прошлый", "прошлое", "самый", "сам", "самой", "этот", "позапрошлый", "последний",
                               "новый", "начало", "конец", "середина"})
_INTENSIFIERS = frozenset({"самой", "самого", "самых", "самая", "самый"})
_SINCE_NOUNS = frozenset({"вчера", "позавчера", "вчерашний", "детство", "утро", "выходные", "праздник",
                          "пятница", "новый"})


def _unit_at(utt: Utterance, i: int) -> str | None:
    lemma = utt.lemmas[i]
    if lemma == "лето" and utt.tokens[i] != "лет":
        return None  # "с прошлого лета" is a season, see _since
    if lemma == "день" and utt.tokens[i] in ("днем", "дню"):
        return None
    return _UNIT_LEMMAS.get(lemma)


def _count_before(utt: Utterance, i: int, claimed: set[int]) -> float | None:
    if i - 1 in claimed or i == 0:
        return None
    token = utt.tokens[i - 1]
    if token in _COLLECTIVE:
        return _COLLECTIVE[token]
    number = utt.number(i - 1)
    if number is not None:
        return number
    ordinal = ORDINALS.get(utt.lemmas[i - 1])
    if ordinal is not None:
        return ordinal  # "третью неделю", "второй месяц": that many, counting the current one
    return lemma_number(token)


def _count_after(utt: Utterance, i: int, claimed: set[int]) -> float | None:
    """"месяца три", "дня два", "месяца полтора" (the number after the unit, not a second unit)."""
    if i + 1 in claimed or utt.lemma_at(i + 2) in _UNIT_LEMMAS:
        return None
    number = utt.number(i + 1)
    if number is None:
        following = utt.token_at(i + 1)
        number = _COLLECTIVE.get(following) or (lemma_number(following) if following else None)
    return number


def _since(utt: Utterance, i: int, claimed: set[int]) -> tuple[str, frozenset[int]] | None:
    """"с весны", "с прошлого лета", "с понедельника", "с января", "с нового года"."""
    toks, lems = utt.tokens, utt.lemmas
    j = i + 1
    if j >= len(toks) or j in claimed:
        return None
    while j < len(toks) and lems[j] in _SINCE_ADJECTIVES and j - i <= 2:
        j += 1
    if j >= len(toks):
        return None
    lem, tok = lems[j], toks[j]
    point = (lem in _SEASONS or lem in lexicon.MONTHS or lem in lexicon.WEEKDAYS or lem in _SINCE_NOUNS
             or any(tok.startswith(s) for s, _ in lexicon.WEEKDAY_STEMS) or tok in _SINCE_NOUNS
             or (j > i + 1 and lem in ("неделя", "месяц", "год")))
    if not point:
        return None
    if lem == "вчерашний" and utt.lemma_at(j + 1) in ("день", "вечер", "утро"):
        j += 1  # "со вчерашнего дня"
    said = [toks[i], *(t for t in toks[i + 1 : j] if t not in _INTENSIFIERS), toks[j]]
    return " ".join(said), frozenset(range(i, j + 1))  # "с самой весны" -> "с весны"


def extract_duration(utt: Utterance, claimed: set[int], asked: bool = False) -> tuple[str | None, frozenset[int]]:
    """The normalised duration and the tokens it used; ``asked``: the duration question is pending,
    so a bare unit ("неделю", "месяц примерно") is one of it."""
    toks = utt.tokens
    for i, tok in enumerate(toks):
        if i in claimed:
            continue
        if tok in lexicon.SINCE_WORDS:
            since = _since(utt, i, claimed)
            if since is not None:
                return since
        unit_lemma = _unit_at(utt, i)
        if unit_lemma is None:
            word = lexicon.DURATION_WORDS.get(tok)
            if word is not None and word != "несколько":
                return word, frozenset((i,))
            continue
        if "через" in (utt.token_at(i - 1), utt.token_at(i - 2)):
            continue  # "через неделю" is when, not how long
        if utt.token_at(i - 2) == "на" and tok.endswith("е"):
            continue  # "на четвёртом месяце" is a pregnancy term (see safety), not a duration
        unit = UNITS[unit_lemma]
        before = _count_before(utt, i, claimed)
        if before is not None:
            return unit.count(before), frozenset((i - 1, i))
        after = _count_after(utt, i, claimed)
        if after is not None:
            return unit.count(after), frozenset((i, i + 1))
        if utt.lemma_at(i - 1) == "несколько":
            return f"несколько {unit.many}", frozenset((i - 1, i))
        if unit_lemma == "час" or tok in ("дня", "днем"):
            continue
        cue = utt.lemma_at(i - 1) in _ONE_CUES or utt.token_at(i + 1) in ("назад", "примерно", "где", "уже", "наверное")
        opening = all(t in lexicon.FILLERS for t in toks[:i])  # "год, а может и больше"
        if cue or (asked and (opening or len([t for t in toks if t not in lexicon.FILLERS]) <= 3)):
            return unit.count(1), frozenset((i,))
    return None, frozenset()
