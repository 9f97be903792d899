"""What the pipeline needs of the voice, as a Protocol (the TTS package implements it).

The pipeline asks for one sentence at a time and enqueues chunks as they come, so the caller
hears the first sentence while the rest of the reply is still being synthesised.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable


@runtime_checkable
class SpeechSynthesizer(Protocol):
    def stream(self, text: str, sample_rate: int) -> AsyncIterator[bytes]:
        """PCM16 mono chunks (~200 ms) of ``text`` spoken at ``sample_rate``."""
        ...


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def split_sentences(text: str, min_chars: int = 12) -> list[str]:
    """Sentences of a reply; very short ones ("Да.") ride with the next so synthesis calls stay few."""
    parts = [p.strip() for p in _SENTENCE_END.split(text.strip()) if p.strip()]
    out: list[str] = []
    carry = ""
    for part in parts:
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
