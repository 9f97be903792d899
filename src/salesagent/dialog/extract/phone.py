"""Phone numbers dictated in any grouping, and partial corrections of the last digits.

After :func:`numbers.words_to_digits` a dictated number is a run of digit groups ("8 916 123 45
67"); typed ones arrive as "8 916 123-45-67" or "+7 (916) ...". A run is joined and accepted as a
Russian number when it has 11 digits starting with 7/8, or 10 starting with 9 (the caller dropped
the trunk prefix). phonenumbers checks the result is a possible RU number.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesagent.dialog.extract.text import Utterance

# Words a caller says between digit groups without ending the number.
_GLUE = frozenset({"э", "ээ", "эээ", "ну", "так", "значит", "вот", "и", "тире", "дефис", "мм", "это"})
# Cues that the digits that follow are the end of the number: "последние цифры 68".
_TAIL_CUES = frozenset({"последний", "конец", "заканчиваться", "окончание", "концовка"})


@dataclass(frozen=True)
class PhoneResult:
    phone: str | None
    tail: str | None
    claimed: frozenset[int]


@dataclass(frozen=True)
class _Run:
    start: int
    end: int
    digits: str
    plus: bool


def _runs(utt: Utterance) -> list[_Run]:
    toks = utt.tokens
    runs: list[_Run] = []
    i, n = 0, len(toks)
    while i < n:
        plus = toks[i] == "плюс" and i + 1 < n and toks[i + 1].isdigit()
        if not (plus or toks[i].isdigit()):
            i += 1
            continue
        j = i + 1 if plus else i
        digits = ""
        last = j
        while j < n:
            if toks[j].isdigit():
                digits += toks[j]
                last = j
                j += 1
            elif toks[j] in _GLUE and j + 1 < n and toks[j + 1].isdigit():
                j += 1
            else:
                break
        runs.append(_Run(i, last + 1, digits, plus))
        i = last + 1
    return runs


def to_e164(digits: str, plus: bool = False) -> str | None:
    """"89161234567" / "79161234567" / "9161234567" -> "+79161234567"; None if not a RU number."""
    if len(digits) == 11 and (digits[0] == "7" or (digits[0] == "8" and not plus)):
        national = digits[1:]
    elif len(digits) == 10 and digits[0] == "9" and not plus:
        national = digits
    else:
        return None
    try:
        import phonenumbers

        parsed = phonenumbers.parse("+7" + national, None)
        if not phonenumbers.is_possible_number(parsed):
            return None
    except ImportError as exc:
        raise RuntimeError("phonenumbers is not installed: pip install phonenumbers") from exc
    except phonenumbers.NumberParseException:
        return None
    return "+7" + national


def extract_phone(utt: Utterance) -> PhoneResult:
    runs = _runs(utt)
    for run in runs:
        phone = to_e164(run.digits, run.plus)
        if phone:
            return PhoneResult(phone, None, frozenset(range(run.start, run.end)))
    lemmas = utt.lemmas
    cue_at = next((i for i, lem in enumerate(lemmas) if lem in _TAIL_CUES), None)
    if cue_at is not None:
        after = [r for r in runs if r.start > cue_at and 1 <= len(r.digits) <= 7]
        if after:
            run = after[-1]  # "не шестьдесят семь а шестьдесят восемь": the last group is the fix
            return PhoneResult(None, run.digits, frozenset(range(run.start, run.end)))
    return PhoneResult(None, None, frozenset())
