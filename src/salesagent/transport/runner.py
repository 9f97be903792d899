"""Runs one call: the handler, the outbound pump and the bridge's reader, and ends them together.

Every bridge needs the same choreography, so it lives here once: whoever finishes first (the peer
hangs up, the peer breaks the protocol, the handler returns or hangs up) decides the
:class:`CallStopped` reason, the handler gets a grace period to wind down, nothing leaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from salesagent.transport.call import Call, CallHandler
from salesagent.transport.events import CallStopped
from salesagent.transport.pacing import OutboundPump

log = logging.getLogger(__name__)


class ProtocolError(ValueError):
    """The peer sent something its protocol does not allow; ends that call only."""


async def _run_handler(handler: CallHandler, call: Call) -> None:
    try:
        await handler.handle(call)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("call handler failed", extra={"context": {"call_id": call.call_id}})


async def run_call(
    call: Call,
    handler: CallHandler,
    pump: OutboundPump,
    reader: Coroutine[Any, Any, None],
    *,
    grace_s: float = 5.0,
) -> CallStopped:
    """Run until the call ends; return why. ``reader`` pushes the peer's events into ``call``,
    returns after pushing :class:`CallStopped`, and raises :class:`ProtocolError` on bad input."""
    ctx = {"call_id": call.call_id, "transport": call.transport, "sample_rate": call.sample_rate,
           "caller_id": call.caller}
    log.info("call started", extra={"context": ctx})
    handler_task = asyncio.create_task(_run_handler(handler, call), name=f"handler-{call.call_id}")
    pump_task = asyncio.create_task(pump.run(), name=f"pump-{call.call_id}")
    reader_task = asyncio.create_task(reader, name=f"reader-{call.call_id}")
    hangup_task = asyncio.create_task(call.wait_hangup())
    try:
        await asyncio.wait({handler_task, reader_task, hangup_task}, return_when=asyncio.FIRST_COMPLETED)
        if reader_task.done():
            exc = reader_task.exception()
            if isinstance(exc, ProtocolError):
                log.error("protocol error, ending call", extra={"context": {**ctx, "error": str(exc)}})
                call.push_stopped("error", str(exc))
            elif exc is not None:
                log.error("bridge reader failed", extra={"context": {**ctx, "error": repr(exc)}})
                call.push_stopped("error", repr(exc))
            else:
                call.push_stopped("hangup")
        else:
            call.push_stopped("agent")
        if not handler_task.done():
            try:
                await asyncio.wait_for(asyncio.shield(handler_task), grace_s)
            except TimeoutError:
                log.warning("handler ignored the end of the call; cancelling", extra={"context": ctx})
    except asyncio.CancelledError:
        call.push_stopped("shutdown")
        raise
    finally:
        for task in (handler_task, pump_task, reader_task, hangup_task):
            task.cancel()
        for task in (handler_task, pump_task, reader_task, hangup_task):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    assert call.stopped is not None
    log.info(
        "call ended",
        extra={"context": {**ctx, "reason": call.stopped.reason, "detail": call.stopped.detail,
                           "frames_out": pump.frames_sent, "dropped_in": call.dropped_audio_frames}},
    )
    return call.stopped
