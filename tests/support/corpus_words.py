"""Russian number words and the ASR-style corruption used to write the labelled corpus.

Kept apart from the phrasings (``corpus_phrases``) so the generator can spell any phone group,
age or weight the way a caller says it, and garble the words around a label the way streaming
Whisper does, without ever touching the words the label is read from.
"""

from __future__ import annotations

import random
import re

UNITS = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
TEENS = ("десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать",
         "семнадцать", "восемнадцать", "девятнадцать")
TENS = ("", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто")
HUNDREDS = ("", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот")
ORD_GEN_UNITS = ("", "первого", "второго", "третьего", "четвертого", "пятого", "шестого", "седьмого", "восьмого",
                 "девятого")
ORD_GEN_TENS = ("", "", "двадцатого", "тридцатого", "сорокового", "пятидесятого", "шестидесятого",
                "семидесятого", "восьмидесятого", "девяностого")
ORD_GEN_TEENS = ("десятого", "одиннадцатого", "двенадцатого", "тринадцатого", "четырнадцатого", "пятнадцатого",
                 "шестнадцатого", "семнадцатого", "восемнадцатого", "девятнадцатого")


def words(n: int) -> str:
    """0..999 as cardinal words ("сто двадцать три"); a leading zero group is read digit by digit."""
    if n < 10:
        return UNITS[n]
    parts: list[str] = []
    if n >= 100:
        parts.append(HUNDREDS[n // 100])
        n %= 100
        if n == 0:
            return parts[0]
    if 10 <= n < 20:
        parts.append(TEENS[n - 10])
    else:
        if n >= 20:
            parts.append(TENS[n // 10])
        if n % 10:
            parts.append(UNITS[n % 10])
    return " ".join(parts)


def group_words(group: str) -> str:
    """A phone group as people say it: "045" -> "ноль сорок пять", "00" -> "ноль ноль"."""
    if group.startswith("0"):
        head, rest = "ноль", group[1:]
        if not rest:
            return head
        return f"{head} {group_words(rest)}" if rest.startswith("0") or len(rest) == 1 else f"{head} {words(int(rest))}"
    return words(int(group))


def ordinal_gen(n: int) -> str:
    """1..99 as a genitive ordinal ("двадцать девятого", "шестьдесят второго")."""
    if n < 10:
        return ORD_GEN_UNITS[n]
    if n < 20:
        return ORD_GEN_TEENS[n - 10]
    if n % 10 == 0:
        return ORD_GEN_TENS[n // 10]
    return f"{TENS[n // 10]} {ORD_GEN_UNITS[n % 10]}"


# Words the ASR (or a hurried caller) bends. Never applied to a label's own words: the corpus
# puts labels in {placeholders} and corrupts only the frame around them.
ASR_BENDS = {
    "сейчас": ("щас", "сечас"), "пожалуйста": ("пожалуста", "пжалста"), "здравствуйте": ("здрасте", "здраствуйте"),
    "конечно": ("конешно",), "извините": ("извинити", "извените"), "девушка": ("девушк",), "только": ("тока",),
    "вообще": ("ваще",), "что": ("што", "чо"), "тоже": ("тож",), "чтобы": ("штобы",), "наверное": ("наверно",),
    "значит": ("знач",), "скажите": ("скажте",), "подскажите": ("подскажте",), "хорошо": ("хрошо", "харашо"),
    "спасибо": ("спасиба",), "давайте": ("давайте", "даваите"), "где-то": ("гдето", "где то"),
}
_WORD = re.compile(r"\S+")


def bend(frame: str, rng: random.Random, rate: float = 0.5) -> str:
    """Misspell the frame's bendable words with probability ``rate`` each; ё is always written е."""
    def sub(m: re.Match[str]) -> str:
        word = m.group(0)
        options = ASR_BENDS.get(word)
        return rng.choice(options) if options and rng.random() < rate else word

    return _WORD.sub(sub, frame).replace("ё", "е")


def whisper_case(text: str, question: bool) -> str:
    """The other way streaming Whisper writes a turn: a capital letter and a final mark."""
    return text[:1].upper() + text[1:] + ("?" if question else ".")
