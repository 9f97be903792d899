"""The number a caller dictates, checked against the line they call from.

Most callers give the number they are calling from, and a phone line's caller id is exact while
speech recognition of ten dictated digits is not: Whisper writes "девятьсот шестнадцать" as "96",
"шестьдесят семь" as "60, 7". When the digits heard are within a couple of edits of the caller id,
the caller id is by far the likelier number, so the agent takes it and reads it back ("Ваш номер:
... Верно?"), which lets the caller correct a wrong guess. Two numbers that are not the same one
rarely share eight of ten digits in order, so a genuinely different number is taken as heard.

Once the caller has been read the line's number and gives another, the line is no longer a guess:
what they dictate is taken as heard, or a caller correcting the agent could never get through.
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from salesagent.dialog.extract.phone import to_e164

MAX_EDITS = 2  # digit insertions, deletions or substitutions between what was heard and the line
MIN_NATIONAL_DIGITS = 9  # fewer digits heard: the caller is still dictating, nothing to compare yet


def line_number(caller_id: str | None) -> str | None:
    """The caller id as E.164 ("+79161234567"), or None for a withheld, foreign or odd one."""
    if not caller_id:
        return None
    digits = "".join(ch for ch in caller_id if ch.isdigit())
    return to_e164(digits, plus=caller_id.strip().startswith("+"))


def _readings(digits: str) -> list[str]:
    """The national digits ``digits`` may stand for: as heard, and without a leading 7 / 8 that
    may be the trunk or country prefix ("8961234567" is 8 + a number with a digit dropped)."""
    digits = digits.removeprefix("+")
    return [digits, digits[1:]] if digits[:1] in ("7", "8") else [digits]


def matches_line(heard: str, caller_id: str | None, current: str | None) -> str | None:
    """The line's number when ``heard`` (an E.164 number or dictated digits) is a mishearing of
    it; None when it is another number, too short to tell, or the line was already offered."""
    line = line_number(caller_id)
    if line is None or current == line:
        return None
    readings = [d for d in _readings(heard) if d.isdigit() and len(d) >= MIN_NATIONAL_DIGITS]
    edits = min((Levenshtein.distance(d, line[2:], score_cutoff=MAX_EDITS + 1) for d in readings),
                default=MAX_EDITS + 1)
    return line if edits <= MAX_EDITS else None
