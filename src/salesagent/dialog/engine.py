"""The dialog engine: one caller utterance in, one administrator reply out.

Pure and synchronous (CPU milliseconds on the rule path); persistence, locking and lead hand-off
are the job of :class:`salesagent.dialog.service.DialogService`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from salesagent import clock
from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.context import TurnContext
from salesagent.dialog.extract.base import Extraction, ExtractionContext, Extractor
from salesagent.dialog.graph import build_graph
from salesagent.dialog.planner import EXPECTED, Planner
from salesagent.dialog.replies import Renderer
from salesagent.dialog.session import Session, Turn
from salesagent.dialog.states import State

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000  # an utterance longer than this is cut: a phone turn is never that long


class BookingLedger(Protocol):
    """Bookings the agent made, shared by all calls so a slot is never given twice."""

    def booked(self) -> list[datetime]: ...

    def book(self, when: datetime, session_id: str) -> bool: ...


class TurnResult(BaseModel):
    session_id: str
    reply: str
    state: State
    slots: dict[str, Any]
    done: bool
    latency_ms: float
    events: list[dict[str, Any]] = []


class DialogEngine:
    def __init__(self, profile: ClinicProfile, extractor: Extractor, ledger: BookingLedger | None = None) -> None:
        self.profile = profile
        self.extractor = extractor
        self.ledger = ledger
        self.renderer = Renderer(profile)
        self.planner = Planner(profile)
        self.graph = build_graph(self.planner)

    def now(self) -> datetime:
        return clock.now(self.profile.tz)

    def new_session(self, session_id: str, caller_id: str | None = None) -> Session:
        now = self.now()
        return Session(session_id=session_id, created_at=now, updated_at=now, caller_id=caller_id)

    def extract(self, session: Session, text: str, now: datetime) -> Extraction:
        if not text.strip():
            return Extraction()
        context = ExtractionContext(
            state=session.state,
            now=now,
            profile=self.profile,
            expected=EXPECTED.get(session.state, ()),
            history=session.recent(),
        )
        return self.extractor.extract(text, context)

    def turn(self, session: Session, text: str) -> TurnResult:
        """Advance ``session`` (mutated in place) by one caller utterance."""
        started = time.perf_counter()
        text = (text or "")[:MAX_TEXT_CHARS]
        now = self.now()
        if session.done:
            return self._result(session, self.renderer.farewell(session, now.date()), started, [])
        from_state = session.state
        ext = self.extract(session, text, now)
        ctx = TurnContext(
            session=session,
            text=text,
            ext=ext,
            now=now,
            profile=self.profile,
            renderer=self.renderer,
            booked=self.ledger.booked() if self.ledger else [],
            book=self._booker(session),
        )
        if text.strip() or session.turn > 0:
            session.history.append(
                Turn(
                    index=session.turn,
                    role="caller",
                    text=text,
                    state=from_state,
                    at=now,
                    extraction=ext.model_dump(mode="json", exclude_defaults=True),
                )
            )
        self.graph.invoke({"ctx": ctx}, {"recursion_limit": 80})
        reply = " ".join(ctx.parts)
        for state in ctx.visited:
            if not session.path or session.path[-1] != state:
                session.path.append(state)
        latency = (time.perf_counter() - started) * 1000
        session.history.append(
            Turn(index=session.turn, role="agent", text=reply, state=session.state, at=now, latency_ms=latency)
        )
        session.turn += 1
        session.updated_at = now
        if from_state != session.state:
            log.debug(
                "FSM transition",
                extra={
                    "context": {
                        "session_id": session.session_id,
                        "from_state": from_state.value,
                        "to_state": session.state.value,
                    }
                },
            )
        return self._result(session, reply, started, ctx.events)

    def _booker(self, session: Session) -> Callable[[datetime], bool]:
        ledger = self.ledger
        if ledger is None:
            return lambda when: True
        return lambda when: ledger.book(when, session.session_id)

    def _result(self, session: Session, reply: str, started: float, events: list[dict]) -> TurnResult:
        return TurnResult(
            session_id=session.session_id,
            reply=reply,
            state=session.state,
            slots=session.slots.filled(),
            done=session.done,
            latency_ms=(time.perf_counter() - started) * 1000,
            events=events,
        )
