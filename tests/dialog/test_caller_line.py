"""The caller's line against the number they dictate (dialog.caller_line): a number heard a
couple of digits off the caller id is the caller id; another number is taken as heard; once the
line's number was read back and the caller gives another, that one wins."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesagent.config import get_settings
from salesagent.dialog.caller_line import line_number, matches_line
from salesagent.services.factory import build_service

LINE = "+79161234567"


def _mutate(national: str, edits: int, rng: random.Random) -> str:
    """``national`` with ``edits`` random digit substitutions, insertions or deletions."""
    digits = list(national)
    for _ in range(edits):
        op, at = rng.choice("sid"), rng.randrange(len(digits))
        if op == "s":
            digits[at] = rng.choice([d for d in "0123456789" if d != digits[at]])
        elif op == "i":
            digits.insert(at, rng.choice("0123456789"))
        elif len(digits) > 9:
            del digits[at]
    return "".join(digits)


@pytest.mark.parametrize("caller_id, expected", [
    ("+79161234567", "+79161234567"), ("89161234567", "+79161234567"), ("7 (916) 123-45-67", "+79161234567"),
    ("anonymous", None), ("", None), (None, None), ("+441632960961", None), ("12345", None),
])
def test_line_number_normalises_the_caller_id(caller_id, expected) -> None:
    assert line_number(caller_id) == expected


@pytest.mark.parametrize("heard", [
    "+79612345607",  # "8, 96, 123, 45, 60, 7": 916 heard as 96, 67 as "60, 7"
    "8961234567",    # the same with the tail heard right: one digit short, kept as a partial
    "+79161234667",  # one group misheard
    "+79161324567",  # two digits swapped
    "89161234567",   # heard exactly
])
def test_a_mishearing_of_the_line_is_the_line(heard) -> None:
    assert matches_line(heard, LINE, None) == LINE


@pytest.mark.parametrize("heard", [
    "+79035557788",  # another mobile
    "+74951234567",  # a Moscow landline sharing the line's last seven digits
    "8916123",       # still dictating: too few digits to tell
    "",
])
def test_another_number_is_not_the_line(heard) -> None:
    assert matches_line(heard, LINE, None) is None


def test_the_line_is_offered_once() -> None:
    assert matches_line("+79612345607", LINE, current=LINE) is None
    assert matches_line("+79612345607", None, None) is None
    assert matches_line("+79612345607", "anonymous", None) is None


@settings(max_examples=200, deadline=None)
@given(national=st.from_regex(r"9[0-9]{9}", fullmatch=True), edits=st.integers(0, 2), seed=st.integers(0, 10**6),
       trunk=st.sampled_from(["8", "7", "+7", ""]))
def test_up_to_two_edits_of_any_mobile_line_are_the_line(national, edits, seed, trunk) -> None:
    heard = trunk + _mutate(national, edits, random.Random(seed))
    assert matches_line(heard, "+7" + national, None) == "+7" + national


def test_unrelated_mobiles_are_different_numbers() -> None:
    """500 pairs of independent random mobiles (seeded): two numbers that are not the same one
    almost never come within two edits (about 1 pair in 10**5), so none may be taken for the line."""
    rng = random.Random(20261204)
    pairs = [("9" + "".join(rng.choices("0123456789", k=9)), "9" + "".join(rng.choices("0123456789", k=9)))
             for _ in range(500)]
    taken = [(a, b) for a, b in pairs if matches_line("8" + b, "+7" + a, None) is not None]
    assert not taken


@pytest.fixture
def service(profile):
    svc = build_service(get_settings(), profile=profile)
    yield svc
    svc.store.close()


def _to_phone_question(service, call_id: str, caller_id: str | None) -> None:
    answers = {
        "ASK_SYMPTOMS": "болит колено", "ASK_SYMPTOMS_DURATION": "месяц", "ASK_PAIN_CHARACTER": "ноющая",
        "ASK_VISITED_DOCTOR": "нет", "ASK_STUDY_DECISION": "да", "OFFER_VIDEO_CONCLUSION": "нет",
        "ANNOUNCE_MEDIA_PRICE": "нет", "CONFIRM_TIME": "да", "RECOMMEND_STUDY": "да", "ANNOUNCE_PRICE": "да",
    }
    service.handle_sync(call_id, "", caller_id)
    service.handle_sync(call_id, "я Ольга хочу на мрт колена в пятницу в два часа дня", caller_id)
    for _ in range(20):
        state = service.store.get(call_id).state.value
        if state == "ASK_PHONE":
            return
        service.handle_sync(call_id, answers[state], caller_id)
    pytest.fail(f"never reached ASK_PHONE (stuck at {state})")


# How Whisper wrote "восемь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь"
# on a loaded phone line: the read-back of the number as heard was wrong twice and the call ended
# as a callback (bench/bench_cluster.py, 2026-12-04).
MISHEARD = "Мой номер 8, 96, 123, 45, 60, 7."


def test_a_misheard_dictation_books_the_callers_line(service) -> None:
    _to_phone_question(service, "line-1", LINE)
    service.handle_sync("line-1", MISHEARD, LINE)
    session = service.store.get("line-1")
    assert session.slots.phone == LINE
    assert session.slots.provenance["phone"].source == "caller_line"


def test_without_a_caller_id_the_number_is_taken_as_heard(service) -> None:
    _to_phone_question(service, "line-2", None)
    service.handle_sync("line-2", MISHEARD, None)
    assert service.store.get("line-2").slots.phone == "+79612345607"


def test_a_caller_who_corrects_the_lines_number_is_taken_at_their_word(service) -> None:
    _to_phone_question(service, "line-3", LINE)
    service.handle_sync("line-3", MISHEARD, LINE)
    assert service.store.get("line-3").slots.phone == LINE
    # The caller rejects the line's number and dictates one two digits off it: a relative's, say.
    service.handle_sync("line-3", "Нет, запишите другой номер: 8 916 123 45 76.", LINE)
    assert service.store.get("line-3").slots.phone == "+79161234576"


def test_a_different_number_is_booked_as_dictated(service) -> None:
    _to_phone_question(service, "line-4", LINE)
    service.handle_sync("line-4", "восемь девятьсот три пятьсот пятьдесят пять семьдесят семь восемьдесят восемь",
                        LINE)
    assert service.store.get("line-4").slots.phone == "+79035557788"
