"""Russian phone numbers as digits: the E.164 form and what may begin one (no speech here)."""

from __future__ import annotations

E164_DIGITS = 11


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


def is_prefix(digits: str, plus: bool = False) -> bool:
    """Digits that can begin a Russian number: "8", "8916", "916123" (plus: "7...")."""
    if not digits or not digits.isdigit():
        return False
    if plus or digits[0] == "7":
        return digits[0] == "7" and len(digits) < E164_DIGITS
    if digits[0] == "8":
        return len(digits) < E164_DIGITS
    return digits[0] == "9" and len(digits) < E164_DIGITS - 1
