"""A lead: one finished call, as the clinic's sheet will show it.

The row is the seed's ten columns of "Лист4" plus the call id. The call id is what makes delivery
idempotent: before re-sending a row whose earlier attempt may have landed, the worker looks the
id up in the sheet.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator, model_validator

from salesagent.dialog.slots import CallStatus, DialogSlots

SEED_COLUMNS: tuple[str, ...] = (
    "Timestamp",
    "Имя клиента",
    "Телефон",
    "Возраст",
    "Вес",
    "Симптомы",
    "Тип исследования",
    "Дата/время записи",
    "Стоимость",
    "Статус",
)
CALL_ID_COLUMN = "ID звонка"
COLUMNS: tuple[str, ...] = (*SEED_COLUMNS, CALL_ID_COLUMN)
"""Header of the sheet, in order. The call id is last so the seed's ten columns stay where they were."""

STATUS_RU: dict[CallStatus, str] = {
    CallStatus.BOOKED: "записан",
    CallStatus.DECLINED: "отказ",
    CallStatus.CALLBACK: "перезвонить",
    CallStatus.CONTRAINDICATED: "противопоказания",
    CallStatus.TRANSFERRED: "переведён на администратора",
    CallStatus.ABANDONED: "звонок прерван",
}

# Any id a bridge hands over: a SIP Call-ID is "1-18806@10.0.0.5" (and may hold "/"). Only
# whitespace and control characters are refused; files use CallRecordStore.folder_name().
CALL_ID_PATTERN = r"^[^\s\x00-\x1f\x7f]{1,256}$"
_CALL_ID_RE = re.compile(CALL_ID_PATTERN)
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")


def storable_call_id(call_id: str) -> str:
    """The id as the outbox and the sheet keep it: the id itself when it fits the pattern.

    Bridges hand us ids we do not choose, and refusing one lost that call's lead (and, in the
    sweeper, the leads of every call expiring with it). Whitespace and control characters become
    ``_``, the result is cut to 200 characters, and a hash of the whole original keeps two such
    ids apart; the same original always maps to the same id, so delivery stays idempotent.
    """
    if _CALL_ID_RE.match(call_id):
        return call_id
    digest = hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{_UNSAFE.sub('_', call_id)[:200]}~{digest}"


class Lead(BaseModel):
    """What the dialog engine hands over when a call ends (any status)."""

    call_id: str = Field(pattern=CALL_ID_PATTERN)
    ended_at: datetime
    slots: DialogSlots
    status: CallStatus
    original_call_id: str | None = Field(
        default=None, description="The id as the bridge gave it, when it had to be made storable"
    )

    @model_validator(mode="before")
    @classmethod
    def _storable_id(cls, data: Any) -> Any:
        """Any string id becomes a lead: an unstorable one is replaced, and the original kept."""
        if isinstance(data, dict) and isinstance(data.get("call_id"), str) and data["call_id"]:
            safe = storable_call_id(data["call_id"])
            if safe != data["call_id"]:
                data = {**data, "call_id": safe, "original_call_id": data["call_id"]}
        return data

    @field_validator("ended_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("ended_at must be timezone-aware")
        return value

    def symptoms_text(self) -> str:
        s = self.slots
        return "; ".join(p.strip() for p in (s.symptoms, s.symptoms_duration, s.pain_character) if p and p.strip())

    def to_row(self, tz: ZoneInfo | str) -> list[str]:
        """The sheet row: 10 seed columns + call id, all strings (written RAW, never as formulas)."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        s = self.slots
        appointment = (
            s.appointment_datetime.astimezone(zone).strftime("%d.%m.%Y %H:%M") if s.appointment_datetime else ""
        )
        return [
            self.ended_at.astimezone(zone).strftime("%d.%m.%Y %H:%M:%S"),
            s.client_name or "",
            s.phone or "",
            "" if s.age is None else str(s.age),
            "" if s.weight is None else str(s.weight),
            self.symptoms_text(),
            s.study_type or "",
            appointment,
            "" if s.price is None else str(int(s.price)),
            STATUS_RU[self.status],
            self.call_id,
        ]
