"""One utterance, normalised once and shared by every sub-extractor.

ASR output is lower case without punctuation, but typed chat input is not: both are folded to the
same token stream (lower case, ``ё`` -> ``е``, punctuation dropped, number words turned into digits
by :mod:`.numbers`). The raw text is kept for what must survive verbatim (the complaint, the
capitalisation of a typed name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from salesagent.dialog.extract import morph
from salesagent.dialog.extract.numbers import words_to_digits

_TIME_DOT = re.compile(r"(?<!\d)(\d{1,2})[.:](\d{2})(?!\d)")
_DIGIT_DASH = re.compile(r"(?<=\d)[\-‐–—()](?=\s*\d)|(?<=\d\s)[\-‐–—](?=\s*\d)")
_NOT_WORD = re.compile(r"[^0-9a-zа-я:\s]")
_LONE_COLON = re.compile(r"(?<!\d):|:(?!\d)")
# Words ASR writes in two: "после завтра" is "послезавтра".
_SPLIT_WORDS = re.compile(r"(?<![а-я])(после|поза)\s+(завтра|вчера)(?![а-я])")
_WORD = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)


def normalize(text: str) -> str:
    """Lower case, ``ё`` folded, ``14.30`` -> ``14:30``, ``+7`` -> ``плюс 7``, other punctuation gone."""
    folded = text.lower().replace("ё", "е")
    folded = _TIME_DOT.sub(r"\1:\2", folded)
    folded = _DIGIT_DASH.sub(" ", folded)
    folded = folded.replace("+", " плюс ")
    folded = _SPLIT_WORDS.sub(lambda m: m.group(1) + m.group(2), folded)  # ASR: "после завтра"
    folded = _NOT_WORD.sub(" ", folded)
    folded = _LONE_COLON.sub(" ", folded)
    return " ".join(folded.split())


def words_of(text: str) -> list[str]:
    """Tokens of already normalised text (aliases in the profile go through the same path)."""
    return normalize(text).split()


@dataclass
class Utterance:
    """The text of one turn in the forms the sub-extractors need."""

    raw: str
    words: list[str] = field(init=False)
    tokens: list[str] = field(init=False)

    def __post_init__(self) -> None:
        normalized = normalize(self.raw)
        self.words = normalized.split()
        self.tokens = words_to_digits(normalized).split()

    @cached_property
    def lemmas(self) -> list[str]:
        return [morph.lemma(t) for t in self.tokens]

    @cached_property
    def word_lemmas(self) -> list[str]:
        return [morph.lemma(w) for w in self.words]

    @cached_property
    def raw_words(self) -> list[str]:
        """Words of the raw text with their original case (for typed names)."""
        return _WORD.findall(self.raw)

    def number(self, i: int) -> int | None:
        """The integer at token ``i`` (after words -> digits), else None."""
        if 0 <= i < len(self.tokens) and self.tokens[i].isdigit() and len(self.tokens[i]) <= 12:
            return int(self.tokens[i])
        return None

    def lemma_at(self, i: int) -> str:
        return self.lemmas[i] if 0 <= i < len(self.tokens) else ""

    def token_at(self, i: int) -> str:
        return self.tokens[i] if 0 <= i < len(self.tokens) else ""
