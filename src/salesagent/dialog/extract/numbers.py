"""Russian number words -> numbers.

Cardinals ("сто двадцать", genitive "ста двадцати", a dictated phone) go through words2num2,
which measured right on every case here; it is wrapped so that no input can make it raise.
Ordinals (dates and "в половине одиннадцатого") and the approximate cues ("под сто", "около
восьмидесяти") are small tables over pymorphy3 lemmas.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from salesagent.dialog.extract import morph

log = logging.getLogger(__name__)

_lock = threading.Lock()
_converter: Callable[..., Any] | None = None

ORDINALS: dict[str, int] = {
    "первый": 1, "второй": 2, "третий": 3, "четвертый": 4, "пятый": 5, "шестой": 6, "седьмой": 7,
    "восьмой": 8, "девятый": 9, "десятый": 10, "одиннадцатый": 11, "двенадцатый": 12,
    "тринадцатый": 13, "четырнадцатый": 14, "пятнадцатый": 15, "шестнадцатый": 16,
    "семнадцатый": 17, "восемнадцатый": 18, "девятнадцатый": 19, "двадцатый": 20, "тридцатый": 30,
}
_TENS = {"двадцать": 20, "тридцать": 30, "20": 20, "30": 30}
# Cues that make the following number approximate: the value itself stays ("под сто" -> 100).
APPROX_WORDS = frozenset({"под", "около", "примерно", "приблизительно", "где", "то", "порядка", "почти", "за",
                          "больше", "меньше", "чуть", "более", "менее", "немного", "наверное"})
# Number words words2num2 leaves alone.
SPECIAL_NUMBERS: dict[str, float] = {"полтора": 1.5, "полторы": 1.5, "пара": 2, "пару": 2, "пары": 2}


def _load() -> Callable[..., Any]:
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                try:
                    from words2num2 import words2num_sentence
                except ImportError as exc:
                    raise RuntimeError("words2num2 is not installed: pip install words2num2") from exc
                _converter = words2num_sentence
    return _converter


def warm_up() -> None:
    """words2num2 builds its grammar on the first call (~150 ms): pay it at start, not in a call."""
    words_to_digits("восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь")


# Whisper writes numerals as heard, often without the soft sign: "шестдесят", "пятсот".
_SOFT_SIGN_DROPPED = re.compile(r"\b(пят|шест|сем|восем|девят)(десят|сот)\b", re.IGNORECASE)


def words_to_digits(text: str) -> str:
    """"вешу под сто" -> "вешу под 100"; "восемь девятьсот шестнадцать ..." -> "8 916 ...".

    On a text words2num2 cannot handle the text comes back unchanged (logged), never an error:
    the digits in it are still usable.
    """
    if not text:
        return text
    convert = _load()
    text = _SOFT_SIGN_DROPPED.sub(r"\1ь\2", text)
    try:
        result = convert(text, lang="ru")
    except Exception as exc:  # third-party parser: any failure must not cost the turn
        log.warning("words2num2 failed", extra={"context": {"error": repr(exc), "chars": len(text)}})
        return text
    return result if isinstance(result, str) else text


def ordinal_value(lemma: str) -> int | None:
    return ORDINALS.get(lemma)


def ordinal_at(tokens: list[str], lemmas: list[str], i: int) -> tuple[int, int] | None:
    """An ordinal starting at ``i``: (value, index after it). "двадцать первого" -> (21, i+2)."""
    if i >= len(tokens):
        return None
    tens = _TENS.get(tokens[i])
    if tens is not None and i + 1 < len(tokens):
        unit = ORDINALS.get(lemmas[i + 1])
        if unit is not None and unit < 10:
            return tens + unit, i + 2
    value = ORDINALS.get(lemmas[i])
    if value is not None:
        return value, i + 1
    # "12го", "12-го" (typed), "12 го" after normalisation
    tok = tokens[i]
    if tok.endswith(("го", "е")) and tok[:-2].isdigit() and tok[:-2]:
        return int(tok[:-2]), i + 1
    if tok.isdigit() and i + 1 < len(tokens) and tokens[i + 1] in ("го", "ого", "е", "ое"):
        return int(tok), i + 2
    return None


def is_approx_before(lemmas: list[str], i: int) -> bool:
    return i > 0 and lemmas[i - 1] in APPROX_WORDS


def lemma_number(word: str) -> float | None:
    """Number words words2num2 does not convert ("полтора", "пару")."""
    return SPECIAL_NUMBERS.get(word) or SPECIAL_NUMBERS.get(morph.lemma(word))
