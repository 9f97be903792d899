"""A call's dialog session: state, slots, script progress and turn history.

Everything the engine needs between turns lives here and is persisted by a ``SessionStore`` as
one JSON document, so a service restart or a second worker continues the same call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from salesagent.dialog.extract.base import DateRequest
from salesagent.dialog.slots import DialogSlots
from salesagent.dialog.states import State


class Turn(BaseModel):
    index: int
    role: Literal["caller", "agent"]
    text: str
    state: State
    at: datetime
    latency_ms: float | None = None
    extraction: dict[str, Any] | None = None
    template: str | None = Field(default=None, description="Agent turns: the template, when the LLM reworded it")


class Progress(BaseModel):
    """Script bookkeeping that is not a slot of the lead."""

    retries: dict[str, int] = Field(default_factory=dict)
    stalled: dict[str, int] = Field(
        default_factory=dict, description="Asks of each question since a slot last changed (progress guard)"
    )
    skipped: list[str] = Field(default_factory=list, description="Optional questions given up on")
    done: list[str] = Field(default_factory=list, description="States answered, skipped or said")
    body_part: str | None = None
    modality: str | None = None
    study_confirmed: bool = False
    decision_made: bool = False
    price_announced_for: str | None = None
    date_request: DateRequest | None = None
    phone_partial: str | None = Field(default=None, description="Digits of a phone dictated over several turns")
    offered: list[datetime] = Field(default_factory=list)
    proposed: datetime | None = None
    contraindications_checked: bool = False
    discount_checked: bool = False
    confirmed: bool = False
    switched_from: str | None = Field(default=None, description="Study id replaced for safety")
    rejected_times: int = Field(default=0, description="Times the caller said no to at the read-back")

    def mark_done(self, state: State) -> None:
        if state.value not in self.done:
            self.done.append(state.value)

    def undo(self, state: State) -> None:
        if state.value in self.done:
            self.done.remove(state.value)

    def is_done(self, state: State) -> bool:
        return state.value in self.done

    def skip(self, state: State) -> None:
        """Give up on an optional question for the rest of the call: it is never asked again."""
        self.mark_done(state)
        if state.value not in self.skipped:
            self.skipped.append(state.value)

    def is_skipped(self, state: State) -> bool:
        return state.value in self.skipped


class Session(BaseModel):
    session_id: str
    created_at: datetime
    updated_at: datetime
    state: State = State.GREETING
    slots: DialogSlots = Field(default_factory=DialogSlots)
    progress: Progress = Field(default_factory=Progress)
    history: list[Turn] = Field(default_factory=list)
    path: list[State] = Field(default_factory=list, description="States in the order visited")
    turn: int = 0
    done: bool = False
    variant: str | None = Field(default=None, description="Prompt A/B variant of this session")
    caller_id: str | None = None
    lead_enqueued: bool = False

    def recent(self, n: int = 12) -> tuple[tuple[str, str], ...]:
        return tuple((t.role, t.text) for t in self.history[-n:])
