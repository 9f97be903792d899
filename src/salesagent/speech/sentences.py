"""The one sentence tokenizer of the project: replies are cut into sentences so the first one is
spoken while the rest are still being made, and so a barge-in can tell which sentences were heard.

Sentence ends come from razdel (the Natasha project's rule-based Russian segmenter), which knows
that "т. е.", "ул.", "руб.", "д. 5" and initials do not end a sentence; a regex on ".!?" cut them in
half. Two length rules sit on top: a very long sentence is cut at commas (synthesis latency grows
with the utterance) and a very short one ("Да.") may ride with the next (fewer synthesis calls).
"""

from __future__ import annotations

import re

from razdel import sentenize

_SOFT = re.compile(r"(?<=[,;:])\s+")


def split_sentences(text: str, max_chars: int = 250, min_chars: int = 0) -> list[str]:
    """Sentences of ``text`` in order, none longer than ``max_chars``; sentences shorter than
    ``min_chars`` are joined to the next one."""
    pieces: list[str] = []
    for sentence in (s.text.strip() for s in sentenize(text.strip())):
        if sentence:
            pieces.extend(_cut_long(sentence, max_chars))
    return _join_short(pieces, min_chars) if min_chars else pieces


def _cut_long(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    current = ""
    for part in _SOFT.split(sentence):
        if current and len(current) + 1 + len(part) > max_chars:
            pieces.append(current)
            current = part
        else:
            current = f"{current} {part}".strip()
    while len(current) > max_chars:
        cut = current.rfind(" ", 0, max_chars)
        cut = cut if cut > 0 else max_chars
        pieces.append(current[:cut].strip())
        current = current[cut:].strip()
    if current:
        pieces.append(current)
    return pieces


def _join_short(pieces: list[str], min_chars: int) -> list[str]:
    out: list[str] = []
    carry = ""
    for part in pieces:
        part = f"{carry} {part}".strip() if carry else part
        if len(part) < min_chars:
            carry = part
            continue
        out.append(part)
        carry = ""
    if carry:
        if out:
            out[-1] = f"{out[-1]} {carry}"
        else:
            out.append(carry)
    return out
