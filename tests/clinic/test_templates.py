"""Every reply template of the profile renders with real values: no unknown placeholder, no
leftover braces. An integrator's edited profile is checked the same way at test time."""

from __future__ import annotations

from datetime import datetime

from salesagent.dialog.replies import Renderer
from salesagent.dialog.session import Session
from salesagent.dialog.slots import CallStatus, DialogSlots, Provenance
from salesagent.dialog.states import State


def _session(profile) -> Session:
    now = datetime.fromisoformat("2026-11-25T11:00:00+03:00")
    study = profile.study("mri_knee")
    prov = Provenance(turn=1, utterance="x")
    slots = DialogSlots()
    for name, value in {
        "client_name": "Ольга",
        "phone": "+79161234567",
        "study_id": study.id,
        "study_type": study.name,
        "price": study.price,
        "appointment_datetime": datetime.fromisoformat("2026-11-27T14:30:00+03:00"),
        "video_conclusion": True,
        "status": CallStatus.BOOKED,
    }.items():
        slots.fill(name, value, prov)
    return Session(session_id="t", created_at=now, updated_at=now, slots=slots)


def test_every_state_template_renders(profile) -> None:
    renderer = Renderer(profile)
    session = _session(profile)
    today = session.created_at.date()
    extra = {"date_phrase": "в пятницу, 27 ноября", "free_times": "10:30, 14:00 и 18:30"}
    for state in State:
        variants = profile.templates.states[state.value]
        assert variants, state
        for attempt in range(len(variants)):
            text = renderer.question(state, attempt, session, today, **extra)
            assert text and "{" not in text and "}" not in text, (state, text)


def test_every_phrase_and_faq_renders(profile) -> None:
    renderer = Renderer(profile)
    session = _session(profile)
    today = session.created_at.date()
    extra = {"date_phrase": "в пятницу", "free_times": "10:30", "study": "КТ коленного сустава",
             "price": "3500 рублей", "discount_name": "скидка пенсионерам",
             "not_offered": "маммографию"}
    for name, raw in profile.templates.phrases.items():
        for index in range(len(raw) if isinstance(raw, list) else 1):
            text = renderer.phrase(name, session, today, index=index, **extra)
            assert "{" not in text, (name, text)
    for entry in profile.faq:
        assert renderer.faq(entry.id, session, today), entry.id


def test_farewell_per_status(profile) -> None:
    renderer = Renderer(profile)
    session = _session(profile)
    for status in CallStatus:
        session.slots.fill("status", status, Provenance(turn=2, utterance=""))
        text = renderer.farewell(session, session.created_at.date())
        assert text and "{" not in text
    # A non-booked status moved the time away (no phantom booking); a real booking sets it again.
    assert session.slots.appointment_datetime is None
    booked_at = datetime.fromisoformat("2026-11-27T14:30:00+03:00")
    session.slots.fill("appointment_datetime", booked_at, Provenance(turn=3, utterance=""))
    session.slots.fill("status", CallStatus.BOOKED, Provenance(turn=3, utterance=""))
    assert "27 ноября" in renderer.farewell(session, session.created_at.date())
