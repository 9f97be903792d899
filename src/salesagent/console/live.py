"""Calls in progress for the Live page and the browser phone, fed by the engine's event bus.

:class:`LiveHub` is a ``pipeline.CallObserver`` (the engine's ``LiveObserver`` hands it each
call's events as JSON-able dicts). It keeps the current state and last utterance per call and fans
events out to Server-Sent-Events subscribers through bounded queues: a slow browser loses events,
it never slows a call down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

_QUEUE = 256


class LiveHub:
    def __init__(self, forward: Any = None) -> None:
        self.forward = forward  # another CallObserver (the demo's terminal) that still gets every event
        self.calls: dict[str, dict[str, Any]] = {}
        self.subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def on_event(self, call_id: str, kind: str, data: dict[str, Any]) -> None:
        if self.forward is not None:
            with contextlib.suppress(Exception):
                self.forward.on_event(call_id, kind, data)
        call = self.calls.setdefault(call_id, {"call_id": call_id, "since": time.time(), "state": None,
                                                "last": None, "who": None})
        if kind == "agent":
            call.update(state=data.get("state") or call["state"], last=data.get("text"), who="agent")
        elif kind == "caller":
            call.update(last=data.get("text"), who="caller")
        event = {"call_id": call_id, "kind": kind, "data": _light(kind, data), "call": dict(call)}
        if kind == "ended":
            self.calls.pop(call_id, None)
        for queue in list(self.subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    def snapshot(self) -> list[dict[str, Any]]:
        return sorted((dict(c) for c in self.calls.values()), key=lambda c: c["since"])

    async def stream(self, call_id: str | None = None, heartbeat_s: float = 15.0) -> AsyncIterator[str]:
        """SSE lines: a ``snapshot`` first, then the events (of one call when ``call_id`` is given)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE)
        self.subscribers.add(queue)
        try:
            yield _sse({"kind": "snapshot", "calls": self.snapshot()})
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), heartbeat_s)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if call_id is None or event["call_id"] == call_id:
                    yield _sse(event)
        finally:
            self.subscribers.discard(queue)


def _light(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The ``ended`` event carries the whole report; the browser needs only the outcome."""
    if kind == "ended":
        return {"status": data.get("status"), "reason": data.get("reason")}
    return data


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, default=str)}\n\n"
