"""pymorphy3 behind a lazy, cached singleton.

Lemmas make the matching tolerant to Russian inflection ("колена", "колене" -> "колено") without
listing every form in the profile. ``MorphAnalyzer`` takes ~0.3 s to load, and a parse ~60 µs, so
the analyzer is built once per process and parses are memoised (utterances repeat words a lot).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

_lock = threading.Lock()
_analyzer: Any = None


def analyzer() -> Any:
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                try:
                    import pymorphy3
                except ImportError as exc:  # a core dependency: say so in one line
                    raise RuntimeError("pymorphy3 is not installed: pip install pymorphy3") from exc
                _analyzer = pymorphy3.MorphAnalyzer()
    return _analyzer


@lru_cache(maxsize=50_000)
def parses(word: str) -> tuple[Any, ...]:
    return tuple(analyzer().parse(word))


@lru_cache(maxsize=50_000)
def lemma(word: str) -> str:
    """The most probable normal form; digits and empty strings come back unchanged."""
    if not word or not word[0].isalpha():
        return word
    found = parses(word)
    return found[0].normal_form.replace("ё", "е") if found else word


@lru_cache(maxsize=50_000)
def is_known(word: str) -> bool:
    return bool(word) and analyzer().word_is_known(word)


def has_grammeme(word: str, grammeme: str, min_score: float = 0.0) -> bool:
    return any(grammeme in p.tag and p.score >= min_score for p in parses(word))


def name_nominative(word: str) -> str | None:
    """The nominative of a first name ("ольгой" -> "Ольга"), or None when no parse is a name."""
    for p in parses(word):
        if "Name" in p.tag:
            return p.normal_form.replace("ё", "е").capitalize()
    return None


def agree_with_number(word: str, number: int) -> str:
    """"неделя" with 2 -> "недели"; used to normalise durations to "2 недели"."""
    found = parses(word)
    if not found:
        return word
    agreed = found[0].make_agree_with_number(number)
    return agreed.word if agreed is not None else word
