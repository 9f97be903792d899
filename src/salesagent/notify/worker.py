"""The delivery worker: drains the outbox into a sink, without ever blocking the dialog.

One batch at a time, oldest first. For each batch:

1. claim it in the outbox (attempt counted, lease taken) before any request goes out;
2. if any lead was tried before, ask the sink which call ids it already holds and mark those
   delivered without re-sending: this is what keeps exactly one row per call when an earlier
   request timed out after Google had written it, or the process died mid-request;
3. append the rest in one request, then mark them delivered.

Failures are backed off durably in the outbox (exponential with jitter, via tenacity's wait
strategy; a server's ``Retry-After`` wins when longer), so a restart continues the schedule. After
``max_attempts`` a lead is dead: listed by ``salesagent leads list`` and re-driven by ``leads retry``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field

import tenacity

from salesagent.notify.config import NotifySettings
from salesagent.notify.outbox import Outbox, OutboxEntry
from salesagent.notify.records import CallRecordStore
from salesagent.notify.sinks.base import LeadSink, SinkError

log = logging.getLogger(__name__)


class Backoff:
    """Delay before the n-th retry: tenacity's exponential-with-jitter, or ``Retry-After`` if longer."""

    def __init__(self, initial_s: float = 2.0, max_s: float = 600.0, jitter_s: float = 1.0) -> None:
        self._wait = tenacity.wait_exponential_jitter(multiplier=initial_s, max=max_s, jitter=jitter_s)
        self.max_s = max_s

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        state = tenacity.RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = max(1, attempt)
        computed = float(self._wait(state))
        return max(computed, retry_after) if retry_after is not None else computed


@dataclass
class DrainResult:
    claimed: int = 0
    delivered: int = 0
    already_there: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        sink: LeadSink,
        *,
        max_attempts: int = 10,
        batch_size: int = 50,
        lease_s: float = 120.0,
        request_timeout_s: float = 20.0,
        poll_interval_s: float = 2.0,
        backoff: Backoff | None = None,
        records: CallRecordStore | None = None,
        cleanup_interval_s: float = 3600.0,
    ) -> None:
        self.outbox = outbox
        self.sink = sink
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.request_timeout_s = request_timeout_s
        self.poll_interval_s = poll_interval_s
        self.backoff = backoff or Backoff()
        self.records = records
        self.cleanup_interval_s = cleanup_interval_s
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False

    @classmethod
    def from_settings(cls, outbox: Outbox, sink: LeadSink, settings: NotifySettings) -> DeliveryWorker:
        return cls(
            outbox,
            sink,
            max_attempts=settings.max_attempts,
            batch_size=settings.batch_size,
            lease_s=settings.lease_s,
            request_timeout_s=settings.request_timeout_s,
            poll_interval_s=settings.poll_interval_s,
            backoff=Backoff(settings.backoff_initial_s, settings.backoff_max_s, settings.backoff_jitter_s),
            records=CallRecordStore.from_settings(settings),
        )

    # -- one batch --------------------------------------------------------------------------
    async def drain_once(self) -> DrainResult:
        """Claim one due batch and try to deliver it. Returns what happened (claimed=0: nothing due)."""
        result = DrainResult()
        batch = await asyncio.to_thread(self.outbox.claim, self.batch_size, time.time(), self.lease_s, self.owner)
        result.claimed = len(batch)
        if not batch:
            return result
        try:
            # The whole batch must settle well inside the lease, or another worker could re-claim it.
            async with asyncio.timeout(self.lease_s * 0.8):
                await self._deliver(batch, result)
        except (SinkError, TimeoutError) as exc:
            error = exc if isinstance(exc, SinkError) else SinkError("delivery exceeded the lease time")
            await self._record_failure(batch, error, result)
        except Exception as exc:  # a bug or an unexpected library error must not lose or kill leads
            log.exception("lead delivery failed unexpectedly", extra={"context": {"sink": self.sink.name}})
            await self._record_failure(batch, SinkError(f"{type(exc).__name__}: {exc}"), result)
        return result

    async def _deliver(self, batch: list[OutboxEntry], result: DrainResult) -> None:
        pending = batch
        maybe_written = {e.call_id for e in batch if e.attempts > 1}
        if maybe_written:
            found = await self.sink.find_call_ids(maybe_written)
            if found:
                await asyncio.to_thread(self.outbox.mark_delivered, sorted(found), time.time(), self.owner)
                result.already_there += len(found)
                log.info(
                    "leads already in the sheet; not re-sent",
                    extra={"context": {"sink": self.sink.name, "call_ids": sorted(found)}},
                )
                pending = [e for e in batch if e.call_id not in found]
        if not pending:
            return
        await self.sink.append([e.row for e in pending])
        await asyncio.to_thread(self.outbox.mark_delivered, [e.call_id for e in pending], time.time(), self.owner)
        result.delivered += len(pending)
        for e in pending:
            log.info(
                "lead delivered",
                extra={
                    "context": {
                        "sink": self.sink.name,
                        "call_id": e.call_id,
                        "attempts": e.attempts,
                        "status": e.lead.status.value,
                        "phone": e.lead.slots.phone,
                    }
                },
            )

    async def _record_failure(self, batch: list[OutboxEntry], error: SinkError, result: DrainResult) -> None:
        now = time.time()
        message = str(error)
        # One delay for the whole batch, so it stays one batch (one request) on the next attempt.
        delay = self.backoff.delay(max(e.attempts_this_round for e in batch), error.retry_after)
        result.errors.append(message)
        for e in batch:
            current = await asyncio.to_thread(self.outbox.get, e.call_id)
            if current is None or current.state.value != "pending":
                continue  # delivered by the sheet check before the failure
            if not error.retryable or e.attempts_this_round >= self.max_attempts:
                await asyncio.to_thread(self.outbox.mark_dead, e.call_id, message, self.owner)
                result.dead += 1
                log.error(
                    "lead dead-lettered",
                    extra={"context": {"call_id": e.call_id, "attempts": e.attempts, "error": message}},
                )
            else:
                await asyncio.to_thread(self.outbox.mark_failed, e.call_id, message, now + delay, self.owner)
                result.failed += 1
        if result.failed:
            log.warning(
                "lead delivery failed; will retry",
                extra={
                    "context": {
                        "sink": self.sink.name,
                        "leads": result.failed,
                        "error": message,
                        "retry_after": error.retry_after,
                    }
                },
            )

    # -- the loop -----------------------------------------------------------------------------
    def wake(self) -> None:
        """Deliver soon (thread-safe): call after ``enqueue`` to skip the poll wait."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run_forever(self) -> None:
        """Drain until :meth:`stop`; the batch in flight finishes first, nothing is abandoned mid-way."""
        self._loop = asyncio.get_running_loop()
        self._running = True
        last_cleanup = 0.0
        log.info("lead delivery worker started", extra={"context": {"sink": self.sink.name, "owner": self.owner}})
        try:
            while not self._stop.is_set():
                self._wake.clear()
                if self.records is not None and time.monotonic() - last_cleanup > self.cleanup_interval_s:
                    last_cleanup = time.monotonic()
                    with contextlib.suppress(OSError):
                        await asyncio.to_thread(self.records.cleanup)
                try:
                    result = await self.drain_once()
                except Exception:
                    log.exception("lead outbox unavailable; retrying")
                    result = DrainResult()
                    await self._sleep(self.poll_interval_s)
                    continue
                if result.claimed:
                    continue
                due = await asyncio.to_thread(self.outbox.next_due_at)
                wait = self.poll_interval_s if due is None else min(self.poll_interval_s, max(0.0, due - time.time()))
                await self._sleep(max(wait, 0.01))
        finally:
            self._running = False
            log.info("lead delivery worker stopped", extra={"context": {"owner": self.owner}})

    async def _sleep(self, seconds: float) -> None:
        stop = asyncio.ensure_future(self._stop.wait())
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stop, wake}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stop, wake):
                task.cancel()

    def stop(self) -> None:
        """Ask the loop to end after the current batch (safe from a signal handler in the loop)."""
        self._stop.set()
