"""Dialog slots: what the call has learned about the caller, each value with its provenance.

The slot model is the contract between the dialog engine, the extractors (rules and LLM), the
lead notifier and the HTTP API. ``DialogSlots`` holds values; ``provenance`` records which
utterance of which turn filled each slot, so an operator can see why a lead says what it says.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

E164_RU = re.compile(r"^\+7\d{10}$")


class CallStatus(StrEnum):
    BOOKED = "booked"
    DECLINED = "declined"
    CALLBACK = "callback"
    CONTRAINDICATED = "contraindicated"
    TRANSFERRED = "transferred"
    ABANDONED = "abandoned"


class Provenance(BaseModel):
    """Where a slot value came from: the caller's words and the turn, or the engine itself."""

    model_config = ConfigDict(frozen=True)

    turn: int = Field(ge=0)
    utterance: str
    source: Literal["rules", "llm", "engine", "profile", "caller_line"] = "rules"


class DialogSlots(BaseModel):
    """The seed's slots. Unset values are ``None``; ``contraindications`` is a list of profile ids."""

    model_config = ConfigDict(validate_assignment=True)

    client_name: str | None = None
    phone: str | None = Field(default=None, description="E.164, +7XXXXXXXXXX")
    age: int | None = Field(default=None, ge=0, le=120)
    weight: int | None = Field(default=None, ge=2, le=400, description="kg")
    symptoms: str | None = None
    symptoms_duration: str | None = None
    pain_character: str | None = None
    visited_doctor: bool | None = None
    study_type: str | None = Field(default=None, description="Study name from the profile.")
    study_id: str | None = Field(default=None, description="Study id from the profile.")
    price: int | None = Field(default=None, ge=0, description="Roubles, after any discount.")
    video_conclusion: bool | None = None
    media: bool | None = None
    appointment_datetime: datetime | None = Field(
        default=None, description="Aware, clinic time zone. Only a booked call keeps it (see ``fill``)."
    )
    requested_datetime: datetime | None = Field(
        default=None, description="The time a caller asked for when the call ended without a booking."
    )
    contraindications: list[str] = Field(default_factory=list)
    discount: str | None = Field(default=None, description="Discount id from the profile.")
    status: CallStatus | None = None
    provenance: dict[str, Provenance] = Field(default_factory=dict)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is not None and not E164_RU.match(value):
            raise ValueError(f"phone must be +7 and 10 digits, got {value!r}")
        return value

    @field_validator("appointment_datetime", "requested_datetime")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("appointment_datetime must carry the clinic's time zone")
        return value

    def fill(self, name: str, value: Any, provenance: Provenance) -> None:
        """Set a slot (validated) and remember where it came from.

        Ending a call with any status but ``booked`` moves a pending appointment time to
        ``requested_datetime``: a lead without a booking must never show a date in the
        sheet's "Дата/время записи", or the clinic would expect a patient who was never booked.
        """
        setattr(self, name, value)
        self.provenance[name] = provenance
        if name == "status" and value is not None and value != CallStatus.BOOKED and self.appointment_datetime:
            self.requested_datetime = self.appointment_datetime
            self.provenance["requested_datetime"] = self.provenance.get("appointment_datetime", provenance)
            self.clear("appointment_datetime")

    def clear(self, name: str) -> None:
        default = [] if name == "contraindications" else None
        setattr(self, name, default)
        self.provenance.pop(name, None)

    def filled(self) -> dict[str, Any]:
        """Only the slots that hold a value (for logs and the chat's ``--json``)."""
        data = self.model_dump(mode="json", exclude={"provenance"})
        return {k: v for k, v in data.items() if v not in (None, [])}


SLOT_NAMES: tuple[str, ...] = tuple(n for n in DialogSlots.model_fields if n != "provenance")
