"""The complaint: its text and what the pain is like (how long it lasts: :mod:`.durations`).

The complaint text is the caller's own words (trimmed of fillers), because the radiologist reads
it in the lead; the duration is normalised ("месяца три" -> "3 месяца") so it sorts and reads the
same for every caller.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from salesagent.dialog.extract import lexicon, morph
from salesagent.dialog.extract.text import Utterance
from salesagent.dialog.extract.vocab import max_edits

MAX_SYMPTOMS_CHARS = 300
_EDGE = re.compile(r"^[\s,.;:!?…\-—]+|[\s,.;:!?…\-—]+$")


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


# Where a complaint told inside a longer answer ends: the caller moves on to the booking.
_AFTER_COMPLAINT = frozenset({"хотеть", "записаться", "записать", "запишите", "врач", "доктор", "направить",
                              "отправить", "нужно", "нужный", "можно", "подсказать", "сколько", "зовут", "звать"})
_BEFORE_COMPLAINT = frozenset({"здравствуйте", "добрый", "день", "алло", "зовут", "меня", "это", "я"})


def complaint_span(utt: Utterance, symptom_words: frozenset[str]) -> tuple[int, int] | None:
    """Word span of the complaint in a long answer that also greets, names itself and asks to
    book ("здравствуйте, меня зовут Вера, третью неделю болит поясница, врач направил на МРТ"):
    the lead's complaint is "третью неделю болит поясница", not the whole sentence."""
    lems = utt.word_lemmas
    hits = [i for i, lem in enumerate(lems) if lem in lexicon.COMPLAINT_LEMMAS or lem in symptom_words]
    if not hits or len(lems) <= 8:
        return None
    start = hits[0]
    while start > 0 and lems[start - 1] not in _AFTER_COMPLAINT and utt.words[start - 1] not in _BEFORE_COMPLAINT:
        start -= 1
    while start < hits[0] and any(morph.has_grammeme(utt.words[start], g, 0.3) for g in ("Name", "Patr", "Surn")):
        start += 1  # "это Вера Николаевна, болит спина": the name is no part of the complaint
    end = hits[-1] + 1
    while end < len(lems) and lems[end] not in _AFTER_COMPLAINT:
        end += 1
    return (start, end) if end > start else None


def complaint_text(raw: str, utt: Utterance | None = None, symptom_words: frozenset[str] = frozenset()) -> str | None:
    """The caller's words without leading fillers and edge punctuation, at most 300 characters;
    only the complaint part of a long answer when the words line up with the raw text."""
    if utt is not None and len(utt.raw_words) == len(utt.words):
        span = complaint_span(utt, symptom_words)
        if span is not None:
            raw = " ".join(utt.raw_words[span[0] : span[1]])
    words = raw.split()
    while words and _EDGE.sub("", words[0]).lower() in lexicon.FILLERS:
        words.pop(0)
    text = _EDGE.sub("", " ".join(words))
    if not text:
        return None
    if len(text) > MAX_SYMPTOMS_CHARS:
        text = text[:MAX_SYMPTOMS_CHARS].rsplit(" ", 1)[0]
    return text
