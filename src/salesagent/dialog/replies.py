"""Reply wording from the profile's templates, filled with slot values.

The engine decides *what* to say (a state's question, a phrase such as ``slot_taken``, an FAQ
answer); this module decides *how*, from ``templates`` in the clinic profile. Unknown
placeholders are a profile error caught by tests, not silently left in speech.
"""

from __future__ import annotations

import string
from datetime import date
from typing import Any

from salesagent.clinic.profile import ClinicProfile, Study
from salesagent.dialog import russian
from salesagent.dialog.session import Session
from salesagent.dialog.states import State

# States whose lines must be said in full, never shortened or rephrased (prices, safety, documents).
MANDATORY_STATES = frozenset(
    {State.ANNOUNCE_PRICE, State.CHECK_CONTRAINDICATIONS, State.REMIND_DOCUMENTS, State.CONFIRM_APPOINTMENT}
)


class _Values(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"template placeholder {{{key}}} has no value")


class Renderer:
    def __init__(self, profile: ClinicProfile) -> None:
        self.profile = profile
        self._formatter = string.Formatter()

    # -- public --------------------------------------------------------------------------------
    def question(self, state: State, attempt: int, session: Session, today: date, **extra: Any) -> str:
        variants = self.profile.templates.states[state.value]
        template = variants[min(attempt, len(variants) - 1)]
        return self.fill(template, session, today, **extra)

    def phrase(self, name: str, session: Session, today: date, index: int = 0, **extra: Any) -> str:
        raw = self.profile.templates.phrases[name]
        template = raw[index % len(raw)] if isinstance(raw, list) else raw
        return self.fill(template, session, today, **extra)

    def faq(self, faq_id: str, session: Session, today: date, study: Study | None = None) -> str:
        """The profile's answer; ``study`` is the one the question named ("сколько стоит КТ
        головы?"), which may differ from the study being booked."""
        entry = self.profile.faq_entry(faq_id)
        if entry is None:
            return ""
        extra = {}
        if study is not None:
            extra = {"price_answer": self.price_answer(session, study),
                     "preparation_answer": self.preparation_answer(session, study),
                     "duration_answer": self.duration_answer(session, study)}
        return self.fill(entry.answer, session, today, **extra)

    def fill(self, template: str, session: Session, today: date, **extra: Any) -> str:
        values = _Values(self.clinic_values())
        values.update(self.session_values(session, today))
        values.update(extra)
        return russian.capitalize_first(template.format_map(values).strip())

    # -- values --------------------------------------------------------------------------------
    def clinic_values(self) -> dict[str, Any]:
        p = self.profile
        c = p.clinic
        return {
            "agent_name": c.agent_name,
            "clinic_name": c.name,
            "address": c.address,
            "directions": c.directions,
            "parking": c.parking,
            "clinic_phone": russian.phone(c.phone),
            "website": c.website or "",
            "working_hours_text": c.working_hours_text,
            "payment": c.payment,
            "results": c.results,
            "documents": russian.join_and(p.documents),
            "video_description": p.video_conclusion.description,
            "video_price": russian.price(p.video_conclusion.price),
            "media_description": p.media.description,
            "media_price": russian.price(p.media.price),
            "limit": p.mri_table_weight_limit_kg,
            "horizon": f"{p.schedule.horizon_days} {russian.plural(p.schedule.horizon_days, 'день', 'дня', 'дней')}",
            "discounts_list": russian.join_and(
                [f"{d.name} {d.percent}% {d.conditions}".strip() for d in p.discounts]
            ),
        }

    def session_values(self, session: Session, today: date) -> dict[str, Any]:
        slots = session.slots
        study = self.profile.studies_by_id.get(slots.study_id or "")
        if study is None:  # a recommendation names the study the caller's words point to
            study = self.profile.find_study(session.progress.modality, session.progress.body_part)
        values: dict[str, Any] = {
            "client_name": slots.client_name or "",
            "name_prefix": f"{slots.client_name}, " if slots.client_name else "",
            "study": study.name if study else "исследование",
            "price": russian.price(slots.price if slots.price is not None else (study.price if study else 0)),
            "duration": russian.minutes(study.duration_min) if study else "",
            "phone_spoken": russian.phone(slots.phone) if slots.phone else "",
            "price_answer": self.price_answer(session),
            "preparation_answer": self.preparation_answer(session),
            "duration_answer": self.duration_answer(session),
            "screening_list": self.screening_list(study.modality if study else None),
        }
        when = slots.appointment_datetime or session.progress.proposed
        values["appointment"] = russian.appointment(when, today) if when else ""
        values["summary"] = self.summary(session, today)
        values["farewell"] = self.farewell(session, today)
        return values

    def screening_list(self, modality: str | None) -> str:
        """The contraindications that rule out this modality ("беременность ... или клаустрофобия"):
        after a switch from MRI to CT only what matters for CT is asked."""
        names = [c.name for c in self.profile.contraindications if modality is None or modality in c.applies_to]
        if len(names) <= 1:
            return "".join(names)
        return ", ".join(names[:-1]) + " или " + names[-1]

    def _study(self, session: Session, study: Study | None) -> Study | None:
        return study or self.profile.studies_by_id.get(session.slots.study_id or "")

    def price_answer(self, session: Session, asked: Study | None = None) -> str:
        study = self._study(session, asked)
        if study:
            booked = study.id == session.slots.study_id and session.slots.price is not None
            price = session.slots.price if booked else study.price
            return f"{study.name} стоит {russian.price(price)}."
        by_modality: dict[str, int] = {}
        for s in self.profile.studies:
            by_modality[s.modality] = min(by_modality.get(s.modality, s.price), s.price)
        parts = [
            f"{self.profile.modalities[m].name} от {russian.price(v)}" for m, v in by_modality.items()
        ]
        return "Стоимость зависит от исследования: " + russian.join_and(parts) + "."

    def preparation_answer(self, session: Session, asked: Study | None = None) -> str:
        study = self._study(session, asked)
        if study:
            return f"Для исследования «{study.name}»: {study.preparation[:1].lower()}{study.preparation[1:]}"
        return (
            "Для МРТ и КТ суставов и позвоночника подготовка не нужна, "
            "для исследований брюшной полости нужно прийти натощак."
        )

    def duration_answer(self, session: Session, asked: Study | None = None) -> str:
        study = self._study(session, asked)
        if study:
            return f"Исследование длится около {russian.minutes(study.duration_min)}."
        return "МРТ длится около 30 минут, КТ около 15 минут, УЗИ около 20 минут."

    def summary(self, session: Session, today: date) -> str:
        slots = session.slots
        parts = []
        if slots.study_type:
            parts.append(slots.study_type)
        if slots.appointment_datetime:
            parts.append(russian.appointment(slots.appointment_datetime, today))
        if slots.client_name:
            parts.append(f"на имя {slots.client_name}")
        if slots.phone:
            parts.append(f"телефон {russian.phone(slots.phone)}")
        extras = []
        if slots.video_conclusion:
            extras.append("видеозаключение")
        if slots.media:
            extras.append("запись снимков на диск")
        if extras:
            parts.append("плюс " + russian.join_and(extras))
        if slots.price is not None:
            parts.append(f"стоимость {russian.price(self.total_price(session))}")
        return ", ".join(parts)

    def total_price(self, session: Session) -> int:
        slots = session.slots
        total = slots.price or 0
        if slots.video_conclusion:
            total += self.profile.video_conclusion.price
        if slots.media:
            total += self.profile.media.price
        return total

    def farewell(self, session: Session, today: date) -> str:
        status = session.slots.status.value if session.slots.status else "abandoned"
        name = f"farewell_{status}"
        if name not in self.profile.templates.phrases:
            name = "farewell_abandoned"
        raw = self.profile.templates.phrases[name]
        template = raw if isinstance(raw, str) else raw[0]
        slots = session.slots
        when = slots.appointment_datetime
        values = {
            "client_name": slots.client_name or "",
            "appointment": russian.appointment(when, today) if when else "",
        }
        text = template.format_map(_Values({**self.clinic_values(), **values}))
        return text.replace("Спасибо, !", "Спасибо!").replace(" ,", ",")

    def placeholders(self, template: str) -> set[str]:
        return {f for _, f, _, _ in self._formatter.parse(template) if f}
