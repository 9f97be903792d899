"""The durable outbox: a lead is on disk before anyone talks to the network.

The engine calls :meth:`Outbox.enqueue` synchronously inside the step that closes the session;
when it returns, the lead is committed (SQLite WAL with ``synchronous=FULL``, or a PostgreSQL
commit). A :class:`~salesagent.notify.worker.DeliveryWorker` drains the outbox later, so the
dialog never waits on Google. Each lead moves ``pending -> delivered`` or, after too many
failures, ``pending -> dead``; dead leads stay visible and are re-driven with :meth:`retry_dead`.

Claiming a batch increments ``attempts`` and takes a lease *before* the request goes out, so after
a crash or a timeout the next attempt knows the row may already be in the sheet and checks first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from salesagent.notify.lead import Lead


class LeadState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class OutboxError(RuntimeError):
    """The outbox store cannot be opened or written (one line, names the store)."""


@dataclass(frozen=True)
class OutboxEntry:
    call_id: str
    seq: int
    lead: Lead
    row: list[str]
    state: LeadState
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    delivered_at: float | None
    lease_until: float
    attempt_base: int = 0
    """``attempts`` when the lead was last re-driven: the dead-letter budget counts from here, while
    ``attempts`` keeps counting so a re-driven lead is still checked in the sheet before re-sending."""

    @property
    def attempts_this_round(self) -> int:
        return self.attempts - self.attempt_base

    @property
    def in_flight(self) -> bool:
        import time

        return self.state is LeadState.PENDING and self.lease_until > time.time()


class Outbox(Protocol):
    """Durable, idempotent lead queue. All methods are synchronous and thread-safe."""

    def enqueue(self, lead: Lead) -> bool:
        """Commit the lead; True if new, False if this call id was already enqueued."""
        ...

    def claim(self, limit: int, now: float, lease_s: float, owner: str) -> list[OutboxEntry]:
        """Take up to ``limit`` due pending leads (oldest first), count an attempt, lease them."""
        ...

    def mark_delivered(self, call_ids: list[str], now: float, owner: str) -> None: ...

    def mark_failed(self, call_id: str, error: str, next_attempt_at: float, owner: str) -> None:
        """Release the lease; the lead is due again at ``next_attempt_at``."""
        ...

    def mark_dead(self, call_id: str, error: str, owner: str) -> None: ...

    def retry_dead(self, call_ids: list[str] | None = None) -> int:
        """Move dead leads (all, or the named ones) back to pending with a fresh attempt budget."""
        ...

    def list(self, state: LeadState | None = None, limit: int | None = None) -> list[OutboxEntry]: ...

    def get(self, call_id: str) -> OutboxEntry | None: ...

    def counts(self) -> dict[LeadState, int]: ...

    def next_due_at(self) -> float | None:
        """When the earliest pending lead becomes claimable (None: nothing pending)."""
        ...

    def close(self) -> None: ...


def encode(lead: Lead, tz: ZoneInfo) -> tuple[str, str]:
    """Lead JSON and the row JSON, frozen at enqueue so every retry sends byte-identical values."""
    return lead.model_dump_json(), json.dumps(lead.to_row(tz), ensure_ascii=False)
