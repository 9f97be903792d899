"""The complaint: its text, how long it lasts, what the pain is like.

The complaint text is the caller's own words (trimmed of fillers), because the radiologist reads
it in the lead; the duration is normalised ("месяца три" -> "3 месяца") so it sorts and reads the
same for every caller.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from salesagent.dialog.extract import lexicon, morph
from salesagent.dialog.extract.numbers import lemma_number
from salesagent.dialog.extract.text import Utterance
from salesagent.dialog.extract.vocab import max_edits

MAX_SYMPTOMS_CHARS = 300
_EDGE = re.compile(r"^[\s,.;:!?…\-—]+|[\s,.;:!?…\-—]+$")


def duration_text(n: float, unit_lemma: str) -> str:
    if n == 1.5:
        return "полтора " + morph.agree_with_number(unit_lemma, 2)
    count = int(n)
    return f"{count} {morph.agree_with_number(unit_lemma, count)}"


def extract_duration(utt: Utterance, claimed: set[int]) -> tuple[str | None, frozenset[int]]:
    toks, lems = utt.tokens, utt.lemmas
    for i, tok in enumerate(toks):
        if i in claimed:
            continue
        unit = lexicon.DURATION_UNITS.get(lems[i])
        if unit is not None:
            if utt.token_at(i - 1) == "через" or utt.token_at(i - 2) == "через":
                continue
            n: float | None = None
            if i > 0 and i - 1 not in claimed:
                n = utt.number(i - 1)
                if n is None:
                    n = lemma_number(toks[i - 1])
                if n is not None:
                    return duration_text(n, unit), frozenset((i - 1, i))
            after = utt.number(i + 1)
            if after is not None and i + 1 not in claimed and utt.lemma_at(i + 2) not in lexicon.DURATION_UNITS:
                return duration_text(after, unit), frozenset((i, i + 1))  # "месяца три"
            prev = utt.lemma_at(i - 1)
            if utt.token_at(i + 1) == "назад" and lems[i] != "час":
                return duration_text(1, unit), frozenset((i,))
            if prev in ("уже", "около", "где", "то", "почти", "больше", "целый", "весь", "с", "примерно") and \
                    lems[i] != "час" and tok not in ("дня", "днем"):
                return duration_text(1, unit), frozenset((i,))
            if prev == "несколько":
                return f"несколько {morph.agree_with_number(unit, 5)}", frozenset((i - 1, i))
            continue
        word = lexicon.DURATION_WORDS.get(tok)
        if word is not None and word != "несколько":
            return word, frozenset((i,))
        if tok in lexicon.SINCE_WORDS and i + 1 < len(toks) and i + 1 not in claimed:
            nxt, nlem = toks[i + 1], lems[i + 1]
            if (nlem in lexicon.WEEKDAYS or any(nxt.startswith(s) for s, _ in lexicon.WEEKDAY_STEMS)
                    or nlem in lexicon.MONTHS or nxt in ("вчера", "позавчера", "вчерашнего", "детства", "утра")):
                return f"{tok} {nxt}", frozenset((i, i + 1))
            if nlem == "прошлый" and utt.lemma_at(i + 2) in ("неделя", "месяц", "год"):
                return f"{tok} {nxt} {toks[i + 2]}", frozenset((i, i + 1, i + 2))
    return None, frozenset()


_ADJECTIVE_ENDINGS = ("ая", "ий", "ый", "ой", "ую", "ое", "ее", "яя")
_PAIN_ADJECTIVES = tuple(k for k in lexicon.PAIN_CHARACTER if k.endswith(("ий", "ый", "ой")) and len(k) >= 6)


def _fuzzy_pain_adjective(token: str, lemma: str) -> str | None:
    """An ASR-mangled pain adjective ("нающая" for "ноющая"): one slip in an adjective of 6+
    letters, compared on the lemma. Verbs and short words are never guessed (too many near
    neighbours: "давить" / "добавить")."""
    if len(token) < 6 or not token.endswith(_ADJECTIVE_ENDINGS):
        return None
    stem = lemma if lemma.endswith(("ий", "ый", "ой")) else token[:-2] + "ий"
    best = min(_PAIN_ADJECTIVES, key=lambda k: Levenshtein.distance(stem, k))
    return lexicon.PAIN_CHARACTER[best] if Levenshtein.distance(stem, best) <= max_edits(best) else None


def extract_pain_character(utt: Utterance) -> str | None:
    found: list[str] = []
    toks, lems = utt.tokens, utt.lemmas
    for i, lem in enumerate(lems):
        value = (lexicon.PAIN_CHARACTER.get(lem) or lexicon.PAIN_CHARACTER.get(toks[i])
                 or _fuzzy_pain_adjective(toks[i], lem))
        if value is None or utt.token_at(i - 1) == "не":
            continue
        if lem == "тянуть" and utt.lemma_at(i + 1) in ("время", "с"):
            continue
        if value not in found:
            found.append(value)
    text = " ".join(toks)
    for phrase, value in lexicon.PAIN_CONTEXT_PHRASES.items():
        if re.search(rf"(?<!\S){re.escape(phrase)}(?!\S)", text) and value not in found:
            found.append(value)
    return ", ".join(found) if found else None


def is_complaint(utt: Utterance, symptom_words: frozenset[str]) -> bool:
    return any(lem in lexicon.COMPLAINT_LEMMAS or lem in symptom_words for lem in utt.lemmas)


def complaint_text(raw: str) -> str | None:
    """The caller's words without leading fillers and edge punctuation, at most 300 characters."""
    words = raw.split()
    while words and _EDGE.sub("", words[0]).lower() in lexicon.FILLERS:
        words.pop(0)
    text = _EDGE.sub("", " ".join(words))
    if not text:
        return None
    if len(text) > MAX_SYMPTOMS_CHARS:
        text = text[:MAX_SYMPTOMS_CHARS].rsplit(" ", 1)[0]
    return text
