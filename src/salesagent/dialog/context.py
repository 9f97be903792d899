"""Per-turn working context passed through the LangGraph nodes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.extract.base import Extraction
from salesagent.dialog.replies import Renderer
from salesagent.dialog.session import Session
from salesagent.dialog.slots import CallStatus, Provenance
from salesagent.dialog.states import State


@dataclass
class TurnContext:
    session: Session
    text: str
    ext: Extraction
    now: datetime
    profile: ClinicProfile
    renderer: Renderer
    booked: list[datetime]
    book: Callable[[datetime], bool] = lambda when: True  # the booking ledger's atomic reserve
    parts: list[str] = field(default_factory=list)
    visited: list[State] = field(default_factory=list)
    consumed: bool = False  # the current question got its answer
    changed: bool = False  # some slot or script fact changed this turn
    answered_faq: bool = False
    asked: State | None = None  # a phrase already asked this state's question
    next: State = State.GREETING
    events: list[dict] = field(default_factory=list)  # for logs: corrections, safety switches, ...

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def state(self) -> State:
        return self.session.state

    def provenance(self, source: str | None = None) -> Provenance:
        src = source or ("llm" if self.ext.source == "llm" else "rules")
        return Provenance(turn=self.session.turn, utterance=self.text, source=src)  # type: ignore[arg-type]

    def say(self, text: str) -> None:
        if text and text.strip():
            self.parts.append(text.strip())

    def phrase(self, name: str, **extra) -> None:
        self.say(self.renderer.phrase(name, self.session, self.today, index=self.session.turn, **extra))

    def end(self, status: CallStatus) -> None:
        self.session.slots.fill("status", status, self.provenance("engine"))
        self.changed = True

    @property
    def ended(self) -> bool:
        return self.session.slots.status is not None and self.session.slots.status != CallStatus.BOOKED
