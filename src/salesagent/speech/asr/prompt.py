"""Whisper's initial prompt from the clinic profile: the words callers will say (МРТ, КТ, ...).

Whisper base hears "МРТ" as "им прот" without context; a prompt listing the clinic's terms biases
the decoder toward them. The words come from the profile (data), never from code.
"""

from __future__ import annotations

from salesagent.clinic.profile import ClinicProfile


def vocabulary_prompt(profile: ClinicProfile, max_chars: int = 300) -> str:
    """Comma-separated clinic terms, most important first, cut at a term boundary."""
    terms: list[str] = []
    length = 0
    for term in profile.vocabulary():
        extra = len(term) + (2 if terms else 0)
        if length + extra > max_chars:
            break
        terms.append(term)
        length += extra
    return (", ".join(terms) + ".") if terms else ""
