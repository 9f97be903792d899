"""Shared helpers for the notifier tests (imported by module name: tests have no packages)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from salesagent.dialog.slots import CallStatus, DialogSlots
from salesagent.notify import Lead

MSK = ZoneInfo("Europe/Moscow")


def make_lead(n: int, status: CallStatus = CallStatus.BOOKED, **slots) -> Lead:
    values = {
        "client_name": f"Клиент {n}",
        "phone": f"+7916{n:07d}",
        "age": 30 + n % 50,
        "weight": 70,
        "symptoms": "боль в колене",
        "study_type": "МРТ коленного сустава",
        "price": 5000,
        "appointment_datetime": datetime(2026, 11, 27, 10, 30, tzinfo=MSK),
    }
    values.update(slots)
    return Lead(
        call_id=f"call-{n:05d}",
        ended_at=datetime(2026, 11, 25, 11, 0, n % 60, tzinfo=MSK),
        slots=DialogSlots(**values),
        status=status,
    )


async def drain_all(worker, rounds: int = 300) -> None:
    """Drain until nothing is pending, waiting out backoffs (bounded, never infinite)."""
    import asyncio
    import time

    from salesagent.notify import LeadState

    for _ in range(rounds):
        result = await worker.drain_once()
        if worker.outbox.counts()[LeadState.PENDING] == 0:
            return
        if not result.claimed:
            due = worker.outbox.next_due_at() or 0
            await asyncio.sleep(min(2.0, max(0.01, due - time.time())))
    raise AssertionError(f"still pending after {rounds} rounds: {worker.outbox.counts()}")


def call_ids_in(rows: list[list[str]]) -> list[str]:
    """The call id column of a sheet's data rows (header skipped)."""
    return [r[10] for r in rows[1:]]
