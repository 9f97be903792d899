"""Which state comes next: the first state of the script whose need is not yet met.

The script order is data-like (``ORDER``); each state's ``needed`` predicate looks at slots and
progress. This is what lets a volunteered slot skip its question ("я Ольга, хочу на МРТ колена в
пятницу" skips the name, study and date questions) and a correction re-open one.
"""

from __future__ import annotations

from collections.abc import Callable

from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.session import Session
from salesagent.dialog.slots import CallStatus
from salesagent.dialog.states import State

ORDER: tuple[State, ...] = (
    State.GREETING,
    State.ASK_CLIENT_NAME,
    State.ASK_SYMPTOMS,
    State.ASK_SYMPTOMS_DURATION,
    State.ASK_PAIN_CHARACTER,
    State.ASK_VISITED_DOCTOR,
    State.ASK_STUDY_REQUEST,
    State.RECOMMEND_STUDY,
    State.ANNOUNCE_PRICE,
    State.ASK_STUDY_DECISION,
    State.OFFER_VIDEO_CONCLUSION,
    State.ANNOUNCE_MEDIA_PRICE,
    State.ASK_APPOINTMENT_DATE,
    State.OFFER_APPOINTMENT_TIMES,
    State.CONFIRM_TIME,
    State.ASK_PHONE,
    State.ASK_AGE_WEIGHT,
    State.CHECK_CONTRAINDICATIONS,
    State.CHECK_DISCOUNTS,
    State.CONFIRM_APPOINTMENT,
    State.REMIND_DOCUMENTS,
    State.PROVIDE_ADDRESS,
    State.PROVIDE_CONTACTS,
    State.FAREWELL,
)

# States that only speak and move on, without waiting for the caller.
SAY_STATES = frozenset({State.ANNOUNCE_PRICE, State.REMIND_DOCUMENTS, State.PROVIDE_ADDRESS, State.PROVIDE_CONTACTS})

# A question the caller cannot answer after two re-asks: these end in a human callback,
# the others are skipped (the lead is still useful without them).
ESSENTIAL = frozenset(
    {
        State.ASK_STUDY_REQUEST,
        State.RECOMMEND_STUDY,
        State.ASK_STUDY_DECISION,
        State.ASK_APPOINTMENT_DATE,
        State.OFFER_APPOINTMENT_TIMES,
        State.CONFIRM_TIME,
        State.ASK_PHONE,
        State.CHECK_CONTRAINDICATIONS,
        State.CONFIRM_APPOINTMENT,
    }
)

# What each question asks for, as the extractor's ``expected`` hint.
EXPECTED: dict[State, tuple[str, ...]] = {
    State.GREETING: (),
    State.ASK_CLIENT_NAME: ("client_name",),
    State.ASK_SYMPTOMS: ("symptoms",),
    State.ASK_SYMPTOMS_DURATION: ("symptoms_duration",),
    State.ASK_PAIN_CHARACTER: ("pain_character",),
    State.ASK_VISITED_DOCTOR: ("visited_doctor",),
    State.ASK_STUDY_REQUEST: ("study_type",),
    State.RECOMMEND_STUDY: ("yes_no",),
    State.ASK_STUDY_DECISION: ("yes_no",),
    State.OFFER_VIDEO_CONCLUSION: ("video_conclusion",),
    State.ANNOUNCE_MEDIA_PRICE: ("media",),
    State.ASK_APPOINTMENT_DATE: ("appointment_datetime",),
    State.OFFER_APPOINTMENT_TIMES: ("appointment_datetime",),
    State.CONFIRM_TIME: ("yes_no",),
    State.ASK_PHONE: ("phone",),
    State.ASK_AGE_WEIGHT: ("age", "weight"),
    State.CHECK_CONTRAINDICATIONS: ("contraindications",),
    State.CHECK_DISCOUNTS: ("discount",),
    State.CONFIRM_APPOINTMENT: ("yes_no",),
}

NO_COMPLAINTS = "жалоб нет"


def candidate_study(session: Session, profile: ClinicProfile) -> str | None:
    """The study the caller's words point to, before they agreed to it."""
    if session.slots.study_id:
        return session.slots.study_id
    prog = session.progress
    study = profile.find_study(prog.modality, prog.body_part)
    return study.id if study else None


def _study_modality(session: Session, profile: ClinicProfile) -> str | None:
    study = profile.studies_by_id.get(session.slots.study_id or "")
    return study.modality if study else None


def _needs(profile: ClinicProfile) -> dict[State, Callable[[Session], bool]]:
    def not_done(state: State) -> Callable[[Session], bool]:
        return lambda s: not s.progress.is_done(state)

    def symptom_detail(state: State, slot: str) -> Callable[[Session], bool]:
        return lambda s: (
            getattr(s.slots, slot) is None
            and not s.progress.is_done(state)
            and s.slots.symptoms not in (None, NO_COMPLAINTS)
        )

    def screening_applies(s: Session) -> bool:
        modality = _study_modality(s, profile)
        return modality is not None and any(modality in c.applies_to for c in profile.contraindications)

    return {
        State.GREETING: not_done(State.GREETING),
        State.ASK_CLIENT_NAME: lambda s: s.slots.client_name is None and not s.progress.is_done(State.ASK_CLIENT_NAME),
        State.ASK_SYMPTOMS: lambda s: s.slots.symptoms is None and not s.progress.is_done(State.ASK_SYMPTOMS),
        State.ASK_SYMPTOMS_DURATION: symptom_detail(State.ASK_SYMPTOMS_DURATION, "symptoms_duration"),
        State.ASK_PAIN_CHARACTER: symptom_detail(State.ASK_PAIN_CHARACTER, "pain_character"),
        State.ASK_VISITED_DOCTOR: lambda s: s.slots.visited_doctor is None
        and not s.progress.is_done(State.ASK_VISITED_DOCTOR),
        State.ASK_STUDY_REQUEST: lambda s: not s.progress.study_confirmed and candidate_study(s, profile) is None,
        State.RECOMMEND_STUDY: lambda s: not s.progress.study_confirmed
        and candidate_study(s, profile) is not None,
        State.ANNOUNCE_PRICE: lambda s: s.progress.study_confirmed
        and s.progress.price_announced_for != s.slots.study_id,
        State.ASK_STUDY_DECISION: lambda s: s.progress.study_confirmed and not s.progress.decision_made,
        State.OFFER_VIDEO_CONCLUSION: lambda s: s.slots.video_conclusion is None
        and not s.progress.is_done(State.OFFER_VIDEO_CONCLUSION)
        and _study_modality(s, profile) in ("mri", "ct"),
        State.ANNOUNCE_MEDIA_PRICE: lambda s: s.slots.media is None
        and not s.progress.is_done(State.ANNOUNCE_MEDIA_PRICE)
        and _study_modality(s, profile) in ("mri", "ct"),
        State.ASK_APPOINTMENT_DATE: lambda s: s.slots.appointment_datetime is None
        and s.progress.proposed is None
        and (s.progress.date_request is None or s.progress.date_request.day is None),
        State.OFFER_APPOINTMENT_TIMES: lambda s: s.slots.appointment_datetime is None and s.progress.proposed is None,
        State.CONFIRM_TIME: lambda s: s.slots.appointment_datetime is None and s.progress.proposed is not None,
        State.ASK_PHONE: lambda s: s.slots.phone is None,
        State.ASK_AGE_WEIGHT: lambda s: not s.progress.is_done(State.ASK_AGE_WEIGHT)
        and (s.slots.age is None or (s.slots.weight is None and _study_modality(s, profile) == "mri")),
        State.CHECK_CONTRAINDICATIONS: lambda s: screening_applies(s) and not s.progress.contraindications_checked,
        State.CHECK_DISCOUNTS: lambda s: not s.progress.discount_checked and s.slots.discount is None,
        State.CONFIRM_APPOINTMENT: lambda s: not s.progress.confirmed,
        State.REMIND_DOCUMENTS: not_done(State.REMIND_DOCUMENTS),
        State.PROVIDE_ADDRESS: not_done(State.PROVIDE_ADDRESS),
        State.PROVIDE_CONTACTS: not_done(State.PROVIDE_CONTACTS),
        State.FAREWELL: lambda s: True,
    }


class Planner:
    def __init__(self, profile: ClinicProfile) -> None:
        self.profile = profile
        self.needs = _needs(profile)

    def next_state(self, session: Session) -> State:
        status = session.slots.status
        if status is not None and status != CallStatus.BOOKED:
            return State.FAREWELL
        for state in ORDER:
            if session.progress.is_skipped(state):
                continue  # the progress guard gave up on it: never asked again in this call
            if self.needs[state](session):
                return state
        return State.FAREWELL

    def needed(self, state: State, session: Session) -> bool:
        return self.needs.get(state, lambda s: False)(session)
