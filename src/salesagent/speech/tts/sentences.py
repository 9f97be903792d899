"""Split normalised text into sentences, so the first one can be spoken while the rest are made."""

from __future__ import annotations

import re

_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_SOFT = re.compile(r"(?<=[,;:])\s+")


def split_sentences(text: str, max_chars: int = 250) -> list[str]:
    """Sentences of ``text``; a very long sentence is cut at commas so no piece exceeds ``max_chars``
    (festival's latency grows with the utterance)."""
    pieces: list[str] = []
    for sentence in _END.split(text.strip()):
        sentence = sentence.strip()
        if not sentence:
            continue
        if len(sentence) <= max_chars:
            pieces.append(sentence)
            continue
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
