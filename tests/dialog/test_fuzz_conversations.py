"""Conversation fuzzer (issue 9): randomized Russian callers through ``POST /dialog`` on a live server.

Hundreds of callers (``SALESAGENT_FUZZ_CALLS``, default 400) with personas from cooperative to
stubborn answer per state from the pools and from noise (silence, fillers, off-script questions,
corrections, ASR damage), against the real service built by ``build_service`` with the SQLite
session store, booking ledger and lead outbox. Every invariant is checked for every call; a
failure prints the seed (``SALESAGENT_FUZZ_SEED`` replays it) and the shortest failing transcript
of each kind. The unit tests below prove each check can fail on a hand-built bad call.
"""

from __future__ import annotations

import logging
import os
import random
from datetime import datetime, timedelta

import pytest

from support.fuzz import CallRecord, TurnRecord, corrupt, utterance
from support.fuzz_checks import STALL_LIMIT, TURN_LIMIT, check_call, check_run, slot_problem
from support.fuzz_run import calls_from_env, run_fuzz

DEFAULT_CALLS = 400
"""About 90 s on a 2-core box; ``SALESAGENT_FUZZ_CALLS=5000`` for the acceptance run."""


def test_fuzzed_calls_hold_every_invariant(profile, monkeypatch: pytest.MonkeyPatch, capsys, caplog) -> None:
    monkeypatch.setenv("SALESAGENT_SESSION_STORE", "sqlite")
    caplog.set_level(logging.ERROR)  # one "utterance cut" warning per long caller would bury the transcript
    seed = os.environ.get("SALESAGENT_FUZZ_SEED") or str(random.SystemRandom().randrange(10**6))
    count = calls_from_env(DEFAULT_CALLS)
    workers = int(os.environ.get("SALESAGENT_FUZZ_WORKERS", "3"))
    report = run_fuzz(profile, count, seed, workers=workers)
    with capsys.disabled():
        print(f"\n{report.summary()}")
    assert len(report.records) == count
    assert report.turns > count * 5, "callers hardly talked: the fuzzer is not exercising the script"
    assert not report.violations, (
        f"{report.summary()}\nreplay with SALESAGENT_FUZZ_SEED={seed} SALESAGENT_FUZZ_CALLS={count}\n"
        f"{report.examples()}"
    )


# -- the checks themselves can fail ----------------------------------------------------------------
NOW = datetime.fromisoformat("2026-11-25T11:00:00+03:00")  # Wednesday, tests/conftest.py's clock


def _turn(state: str, text: str = "да", **kw) -> TurnRecord:
    return TurnRecord(text=text, kind=kw.pop("kind", "answer"), code=kw.pop("code", 200), state=state,
                      reply=kw.pop("reply", "Вопрос?"), done=kw.pop("done", False), slots=kw.pop("slots", {}),
                      asked=kw.pop("asked", ""), facts=kw.pop("facts", {}), sent=kw.pop("sent", 0.0),
                      received=kw.pop("received", 0.0))


def _record(turns: list[TurnRecord], slots: dict, row: list[str] | None = None, index: int = 1,
            path: list[str] | None = None) -> CallRecord:
    rec = CallRecord(index=index, seed="unit", persona="unit", session_id=f"unit-{index}", turns=turns)
    rec.session = {"slots": slots, "path": path or [t.state for t in turns]}
    rec.lead_row = row
    return rec


def _row(appointment: str = "", status: str = "перезвонить") -> list[str]:
    return ["25.11.2026 11:00:00", "Ольга", "+79161234567", "45", "80", "колено", "МРТ коленного сустава",
            appointment, "4500", status, "unit-1"]


BOOKED = {"status": "booked", "study_id": "mri_knee", "phone": "+79161234567", "weight": 80,
          "appointment_datetime": "2026-11-27T15:00:00+03:00"}


def _booked_call(slots: dict | None = None, index: int = 1, **kw) -> CallRecord:
    slots = {**BOOKED, **(slots or {})}
    turns = [_turn("GREETING", "", kind="start"), _turn("CHECK_CONTRAINDICATIONS", "нет", asked="CHECK_CONTRAINDICATIONS"),
             _turn("END", "да", done=True, slots=slots, asked="CONFIRM_APPOINTMENT", **kw)]
    return _record(turns, slots, _row("27.11.2026 15:00", "записан"), index=index)


def _kinds(violations) -> set[str]:
    return {v.kind for v in violations}


def test_a_clean_booked_call_holds(profile) -> None:
    assert check_call(_booked_call(), profile, NOW) == []


def test_phantom_appointment_on_a_lead_that_did_not_book_is_caught(profile) -> None:
    slots = {"status": "callback", "requested_datetime": "2026-11-27T15:00:00+03:00"}
    turns = [_turn("GREETING", "", kind="start"), _turn("END", "перезвоните", done=True, slots=slots)]
    assert check_call(_record(turns, slots, _row("27.11.2026 15:00")), profile, NOW) != []
    assert "phantom_lead_date" in _kinds(check_call(_record(turns, slots, _row("27.11.2026 15:00")), profile, NOW))
    assert check_call(_record(turns, slots, _row("")), profile, NOW) == []  # requested time in its own field
    with_slot = {**slots, "appointment_datetime": "2026-11-27T15:00:00+03:00"}
    assert "phantom_appointment" in _kinds(check_call(_record(turns, with_slot, _row("")), profile, NOW))


def test_unsafe_mri_bookings_are_caught(profile) -> None:
    assert "unsafe_booking" in _kinds(check_call(_booked_call({"contraindications": ["pacemaker"]}), profile, NOW))
    assert "unsafe_booking" in _kinds(check_call(_booked_call({"weight": 150}), profile, NOW))
    heard = _booked_call(facts={"weight": 150})  # the caller said 150 kg, the engine stored 80
    assert "unsafe_booking_heard" in _kinds(check_call(heard, profile, NOW))
    said = _booked_call()
    said.turns[1] = _turn("CONFIRM_APPOINTMENT", "у меня кардиостимулятор", asked="CHECK_CONTRAINDICATIONS",
                          facts={"contra": "pacemaker"})
    assert {"unsafe_booking_heard", "safety_unresolved"} <= _kinds(check_call(said, profile, NOW))
    unsure = _booked_call()
    unsure.turns[1] = _turn("CONFIRM_APPOINTMENT", "не знаю", asked="CHECK_CONTRAINDICATIONS")
    assert "safety_unresolved" in _kinds(check_call(unsure, profile, NOW))
    unasked = _booked_call()
    del unasked.turns[1]
    assert "safety_not_asked" in _kinds(check_call(unasked, profile, NOW))


def test_bad_slots_are_caught(profile) -> None:
    tz = profile.tz
    assert slot_problem(profile, datetime(2026, 11, 27, 15, 0, tzinfo=tz), NOW) is None
    assert "future" in slot_problem(profile, datetime(2026, 11, 25, 11, 30, tzinfo=tz), NOW)  # under the lead time
    assert "horizon" in slot_problem(profile, NOW + timedelta(days=profile.schedule.horizon_days + 2), NOW)
    assert "taken" in slot_problem(profile, datetime(2026, 11, 25, 15, 0, tzinfo=tz), NOW)  # wed 15:00 taken weekly
    assert "grid" in slot_problem(profile, datetime(2026, 11, 27, 15, 10, tzinfo=tz), NOW)
    assert "hours" in slot_problem(profile, datetime(2026, 11, 27, 23, 0, tzinfo=tz), NOW)
    bad = _booked_call({"appointment_datetime": "2026-11-25T11:30:00+03:00"})
    assert "booked_bad_slot" in _kinds(check_call(bad, profile, NOW))
    offer = _turn("OFFER_APPOINTMENT_TIMES", reply="В пятницу, 27 ноября, есть свободное время: 15:00 и 23:00.")
    rec = _record([_turn("GREETING", "", kind="start"), offer], {})
    assert any("23:00" in v.detail for v in check_call(rec, profile, NOW) if v.kind == "offered_bad_slot")


def test_endless_and_broken_calls_are_caught(profile) -> None:
    stuck = [_turn("GREETING", "", kind="start")] + [_turn("CHECK_DISCOUNTS", "ага") for _ in range(STALL_LIMIT + 1)]
    kinds = _kinds(check_call(_record(stuck, {}), profile, NOW))
    assert {"no_progress", "never_ends"} <= kinds
    cycle = ["OFFER_APPOINTMENT_TIMES", "CONFIRM_TIME"] * 8
    kinds = _kinds(check_call(_record(stuck[:2], {}, path=cycle), profile, NOW))
    assert "state_cycle" in kinds
    long = [_turn("GREETING", "", kind="start")] + [_turn(f"S{i % 20}", slots={"n": i}) for i in range(TURN_LIMIT + 1)]
    long[-1].done = True
    assert "too_many_turns" in _kinds(check_call(_record(long, {"status": "callback"}, _row()), profile, NOW))
    crashed = [_turn("GREETING", "", kind="start"), _turn("ASK_CLIENT_NAME", code=500, reply="Internal Server Error")]
    assert "http_5xx" in _kinds(check_call(_record(crashed, {}), profile, NOW))


def test_cross_call_booking_invariants_are_caught(profile) -> None:
    first = _booked_call(index=1, received=10.0)
    second = _booked_call(index=2, received=20.0)
    assert "double_booking" in _kinds(check_run([first, second], profile, NOW))
    late_offer = _turn("OFFER_APPOINTMENT_TIMES", reply="В пятницу, 27 ноября, есть свободное время: 15:00.",
                       sent=11.0)
    third = _record([_turn("GREETING", "", kind="start"), late_offer], {}, index=3)
    kinds = _kinds(check_run([first, third], profile, NOW, ledger=[]))
    assert {"offered_booked_slot", "ledger_missing"} <= kinds
    ghost = datetime(2026, 11, 28, 15, 0, tzinfo=profile.tz)
    assert "ledger_phantom" in _kinds(check_run([third], profile, NOW, ledger=[ghost]))
    when = datetime.fromisoformat(BOOKED["appointment_datetime"])
    assert check_run([first], profile, NOW, ledger=[when]) == []


def test_callers_are_reproducible_from_the_seed() -> None:
    def play(seed: str) -> list[tuple[str, dict]]:
        rng = random.Random(seed)
        return [utterance(kind, "ASK_AGE_WEIGHT", rng) for kind in ("answer", "asr", "written", "correction") * 5]

    assert play("7:1") == play("7:1")
    assert play("7:1") != play("7:2")
    rng = random.Random(3)
    damaged = {corrupt("мне сорок пять вес восемьдесят", rng) for _ in range(40)}
    assert len(damaged) > 10 and all(d == d.lower() for d in damaged)

