"""The dialog as a service: sessions, per-call serialisation, expiry and the lead hand-off.

Used by the HTTP API, the terminal chat and the voice pipeline alike. A turn runs in a worker
thread under the session's lock (two requests for one call are serialised, never interleaved).
When a call ends, whatever the status, its lead is written to the durable outbox in the same
step that closes the session, before anything touches the network.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from salesagent.dialog.engine import DialogEngine, TurnResult
from salesagent.dialog.session import Session
from salesagent.dialog.slots import CallStatus, Provenance
from salesagent.dialog.store import SessionStore

log = logging.getLogger(__name__)


class LeadSink(Protocol):
    """What the service needs of the outbox: a durable, idempotent enqueue."""

    def enqueue_session(self, session: Session) -> bool: ...


class UnknownSession(KeyError):
    pass


class DialogService:
    def __init__(self, engine: DialogEngine, store: SessionStore, leads: LeadSink | None = None) -> None:
        self.engine = engine
        self.store = store
        self.leads = leads

    # -- turns ---------------------------------------------------------------------------------
    async def handle(self, session_id: str, text: str, caller_id: str | None = None) -> TurnResult:
        return await asyncio.to_thread(self.handle_sync, session_id, text, caller_id)

    def handle_sync(self, session_id: str, text: str, caller_id: str | None = None) -> TurnResult:
        """One turn. A call idle past the TTL but not yet swept is continued, not replaced.

        The call id names one call, so a caller heard again on it is the same caller: what they
        already said (their name, the study, the chosen time) is kept, the dialog goes on from
        where it stopped, and the call still ends in exactly one lead. Starting a fresh session
        here used to drop the old one, and its lead with the caller's name, without a trace;
        closing it and starting anew would give two calls one id, which the outbox (idempotent on
        the call id) would fold into one lead, losing the second.
        """
        with self.store.lock(session_id):
            session = self.store.get(session_id)
            if session is None and (session := self.store.get_expired(session_id)) is not None:
                log.info("expired session continued", extra={"context": {"session_id": session_id}})
            if session is None:
                session = self.engine.new_session(session_id, caller_id=caller_id)
                log.info("session start", extra={"context": {"session_id": session_id}})
            result = self.engine.turn(session, text)
            if session.done:
                self._close(session)
            self.store.put(session)
        return result

    # -- lifecycle -----------------------------------------------------------------------------
    async def end_call(self, session_id: str, status: CallStatus = CallStatus.ABANDONED) -> Session | None:
        """The caller hung up (or the line broke): close the session and keep its lead."""
        return await asyncio.to_thread(self.end_call_sync, session_id, status)

    def end_call_sync(self, session_id: str, status: CallStatus = CallStatus.ABANDONED) -> Session | None:
        with self.store.lock(session_id):
            session = self.store.get(session_id) or self.store.get_expired(session_id)
            if session is None:
                return None
            self._finish(session, status)
            self._close(session)
            self.store.put(session)
        return session

    @staticmethod
    def _finish(session: Session, status: CallStatus) -> None:
        """Mark a call over; the status it already has (booked, declined...) wins over ``status``."""
        if session.done:
            return
        if session.slots.status is None:
            session.slots.fill("status", status, Provenance(turn=session.turn, utterance="", source="engine"))
        session.done = True

    def _close(self, session: Session) -> None:
        if session.lead_enqueued:
            return
        if self.leads is not None:
            self.leads.enqueue_session(session)
        session.lead_enqueued = True
        log.info(
            "session end",
            extra={
                "context": {
                    "session_id": session.session_id,
                    "status": session.slots.status.value if session.slots.status else None,
                    "turns": session.turn,
                    "phone": session.slots.phone,
                }
            },
        )

    async def get(self, session_id: str) -> Session:
        session = await asyncio.to_thread(self.store.get, session_id)
        if session is None:
            raise UnknownSession(session_id)
        return session

    async def delete(self, session_id: str) -> None:
        """Delete a session; a call still in progress is closed first so its lead is kept."""

        def _delete() -> bool:
            with self.store.lock(session_id):
                session = self.store.get(session_id) or self.store.get_expired(session_id)
                if session is None:
                    return False
                self._finish(session, CallStatus.ABANDONED)
                self._close(session)
                return self.store.delete(session_id)

        if not await asyncio.to_thread(_delete):
            raise UnknownSession(session_id)

    def sweep_sync(self) -> int:
        """Close sessions idle past their TTL (lead status ``abandoned`` unless already ended).

        Each session is closed (its lead committed to the outbox) BEFORE it is deleted, one at a
        time under its lock, and a failure is that session's alone: it is logged and the session
        is kept, so the next sweep tries it again, while every other expired call still gets its
        lead. Deleting them all first and closing after let one bad session lose all the others.
        Returns how many were closed and removed.
        """
        closed = 0
        for session_id in self.store.expired_ids():
            try:
                closed += self._sweep_one(session_id)
            except Exception:  # one bad session must not cost the other callers their leads
                log.exception("expired session not closed; kept for the next sweep",
                              extra={"context": {"session_id": session_id}})
        return closed

    def _sweep_one(self, session_id: str) -> bool:
        with self.store.lock(session_id):
            session = self.store.get_expired(session_id)  # re-read: it may have been continued or swept
            if session is None:
                return False
            self._finish(session, CallStatus.ABANDONED)
            self._close(session)
            self.store.delete(session_id)
        self.store.forget_lock(session_id)
        return True

    async def sweep_forever(self, interval_s: float = 30.0) -> None:
        while True:
            try:
                await asyncio.to_thread(self.sweep_sync)
            except Exception:  # the sweeper must outlive a store hiccup
                log.exception("session sweep failed")
            await asyncio.sleep(interval_s)

    def ready(self) -> bool:
        return self.store.ping()


def session_view(session: Session) -> dict[str, Any]:
    """The GET /session/{id} document: state, slots with provenance, history, path."""
    return {
        "session_id": session.session_id,
        "state": session.state.value,
        "done": session.done,
        "slots": session.slots.model_dump(mode="json"),
        "history": [t.model_dump(mode="json") for t in session.history],
        "path": [s.value for s in session.path],
        "variant": session.variant,
        "created_at": session.created_at.isoformat(),
        "updated_at": session.updated_at.isoformat(),
    }
