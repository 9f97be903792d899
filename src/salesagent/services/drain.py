"""Graceful drain on SIGTERM for ``salesagent serve``: stop taking calls, finish the live ones, exit.

Why not uvicorn's own SIGTERM: it closes the listening socket and then every WebSocket (1012), so a
deploy or a scale-in would hang up on every caller mid-sentence. Here the first SIGTERM only starts
a drain: ``/ready`` answers 503 (HAProxy's health check takes the worker out of rotation), new
telephony connections (``/audiofork``, ``/twilio/media``) are refused with 403, calls in progress
go on until they end or ``SALESAGENT_DRAIN_TIMEOUT_S`` passes, then the server exits normally (the
lifespan closes the lead worker and the scheduler). A second SIGTERM or a SIGINT exits at once.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from types import FrameType
from typing import Any

import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

CALL_PATHS = ("/audiofork", "/twilio/media")
"""WebSocket paths that carry a phone call (the ASR/TTS gateway sockets are not calls)."""


class DrainSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESAGENT_DRAIN_", extra="ignore")

    timeout_s: float = Field(default=120.0, ge=0, le=3600, description="Longest wait for live calls after SIGTERM.")


class DrainGate:
    """ASGI middleware: counts live calls; while draining, 503 on /ready and 403 on new calls."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.draining = False
        self.calls = 0

    def _is_call(self, scope: Scope) -> bool:
        return scope["type"] == "websocket" and scope.get("path", "").startswith(CALL_PATHS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.draining and scope["type"] == "http" and scope.get("path") == "/ready":
            body = json.dumps({"ready": False, "reason": "draining", "calls": self.calls}).encode()
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        if not self._is_call(scope):
            await self.app(scope, receive, send)
            return
        if self.draining:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1013, "reason": "draining"})  # before accept: 403
            log.info("call refused while draining", extra={"context": {"path": scope.get("path")}})
            return
        self.calls += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.calls -= 1


class DrainingServer(uvicorn.Server):
    """uvicorn whose first SIGTERM drains (see the module docstring) instead of closing everything."""

    def __init__(self, config: uvicorn.Config, gate: DrainGate, timeout_s: float) -> None:
        super().__init__(config)
        self.gate = gate
        self.timeout_s = timeout_s
        self.deadline: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self.deadline is None:
            self.gate.draining = True
            self.deadline = time.monotonic() + self.timeout_s
            log.info("SIGTERM: draining", extra={"context": {"calls": self.gate.calls, "timeout_s": self.timeout_s}})
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self.deadline is not None and not self.should_exit:
            late = time.monotonic() >= self.deadline
            if self.gate.calls == 0 or late:
                log.info("drain finished", extra={"context": {"calls_left": self.gate.calls, "timed_out": late}})
                self.should_exit = True
        return await super().on_tick(counter)


def serve_draining(app: ASGIApp, settings: DrainSettings | None = None, **uvicorn_kwargs: Any) -> None:
    """``uvicorn.run`` with the drain gate in front of ``app``."""
    gate = DrainGate(app)
    server = DrainingServer(uvicorn.Config(gate, **uvicorn_kwargs), gate, (settings or DrainSettings()).timeout_s)
    server.run()
