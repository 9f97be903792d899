"""Whisper's initial prompt from the clinic profile: the words callers will say (МРТ, КТ, ...).

Whisper base hears "МРТ" as "им прот" without context; a prompt listing the clinic's terms biases
the decoder toward them. The words come from the profile (data), never from code.
"""

from __future__ import annotations

from salesagent.clinic.profile import ClinicProfile


def vocabulary_prompt(profile: ClinicProfile, max_chars: int = 300) -> str:
    """The profile's ``asr_prompt`` (cut at a sentence, then a word boundary), or else the
    comma-separated clinic terms, most important first, cut at a term boundary."""
    if profile.asr_prompt:
        return _cut(profile.asr_prompt.strip(), max_chars)
    terms: list[str] = []
    length = 0
    for term in profile.vocabulary():
        extra = len(term) + (2 if terms else 0)
        if length + extra > max_chars:
            break
        terms.append(term)
        length += extra
    return (", ".join(terms) + ".") if terms else ""


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    head = text[: max_chars + 1]
    for stop in (". ", "! ", "? "):
        at = head.rfind(stop)
        if at > 0:
            return head[: at + 1]
    at = head.rfind(" ")
    return head[:at].rstrip(",;:") if at > 0 else ""
