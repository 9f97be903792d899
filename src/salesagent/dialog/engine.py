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
from salesagent.dialog.replies import MANDATORY_STATES, Renderer
from salesagent.dialog.session import Session, Turn
from salesagent.dialog.states import State

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000  # an utterance longer than this is cut: a phone turn is never that long


class BookingLedger(Protocol):
    """Bookings the agent made, shared by all calls so a slot is never given twice."""

    def booked(self) -> list[datetime]: ...

    def book(self, when: datetime, session_id: str) -> bool: ...


class Rephraser(Protocol):
    """Rewords a template reply (``llm.rephrase.GroundedRephraser``); returns the template when it
    may not be reworded. Defined here so the engine does not import the LLM package."""

    def rephrase(self, state: str, template_reply: str, slots: Any, profile: ClinicProfile,
                 history: Any = None, variant: str | None = None) -> str: ...


class TurnResult(BaseModel):
    session_id: str
    reply: str
    state: State
    slots: dict[str, Any]
    done: bool
    latency_ms: float
    events: list[dict[str, Any]] = []


class DialogEngine:
    """``rephraser`` and ``assign_variant`` are the optional LLM hooks (wired by services.factory):
    a new session gets ``assign_variant(session_id)`` as its A/B variant, the extractor speaks
    that variant (``with_variant``), and non-mandatory replies go through the rephraser."""

    def __init__(self, profile: ClinicProfile, extractor: Extractor, ledger: BookingLedger | None = None, *,
                 rephraser: Rephraser | None = None, assign_variant: Callable[[str], str] | None = None) -> None:
        self.profile = profile
        self.extractor = extractor
        self.ledger = ledger
        self.rephraser = rephraser
        self.assign_variant = assign_variant
        self._by_variant: dict[str, Extractor] = {}
        self.renderer = Renderer(profile)
        self.planner = Planner(profile)
        self.graph = build_graph(self.planner)

    def now(self) -> datetime:
        return clock.now(self.profile.tz)

    def new_session(self, session_id: str, caller_id: str | None = None) -> Session:
        now = self.now()
        variant = self.assign_variant(session_id) if self.assign_variant else None
        return Session(session_id=session_id, created_at=now, updated_at=now, caller_id=caller_id, variant=variant)

    def _extractor_for(self, variant: str | None) -> Extractor:
        """The extractor speaking the session's prompt variant (one instance per variant)."""
        make = getattr(self.extractor, "with_variant", None)
        if not variant or make is None:
            return self.extractor
        if variant not in self._by_variant:
            self._by_variant[variant] = make(variant)
        return self._by_variant[variant]

    def extract(self, session: Session, text: str, now: datetime) -> Extraction:
        if not text.strip():
            return Extraction()
        context = ExtractionContext(
            state=session.state,
            now=now,
            profile=self.profile,
            expected=EXPECTED.get(session.state, ()),
            history=session.recent(),
            phone_so_far=session.slots.phone or session.progress.phone_partial,
        )
        extractor = self._extractor_for(session.variant)
        if getattr(extractor, "takes_slots", False):
            return extractor.extract(text, context, slots=session.slots.filled())  # type: ignore[call-arg]
        return extractor.extract(text, context)

    def _rephrase(self, session: Session, visited: list[State], reply: str) -> str:
        """The rephraser's wording of a non-mandatory reply; the template itself otherwise.

        A reply is fixed when any state it was assembled from is mandatory (the engine's own
        list and the rephraser's ``mandatory_states``): an address or a price said on the way
        to the next question keeps its exact wording too.
        """
        if self.rephraser is None or not reply or session.done:
            return reply
        states = {session.state, *visited}
        fixed = set(getattr(getattr(self.rephraser, "settings", None), "mandatory_states", ()))
        if states & MANDATORY_STATES or {s.value for s in states} & fixed:
            return reply
        try:
            return self.rephraser.rephrase(session.state.value, reply, session.slots, self.profile,
                                           session.recent(), variant=session.variant) or reply
        except Exception:  # the Protocol says it never raises; a broken one must not cost the turn
            log.exception("rephraser raised", extra={"context": {"session_id": session.session_id}})
            return reply

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
        template = " ".join(ctx.parts)
        reply = self._rephrase(session, ctx.visited, template)
        for state in ctx.visited:
            if not session.path or session.path[-1] != state:
                session.path.append(state)
        latency = (time.perf_counter() - started) * 1000
        session.history.append(
            Turn(index=session.turn, role="agent", text=reply, state=session.state, at=now, latency_ms=latency,
                 template=template if reply != template else None)
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
