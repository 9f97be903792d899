"""The standalone telephony server: mod_audio_fork and Twilio WebSockets plus AudioSocket TCP.

``salesagent serve`` mounts the same routers into the main app; this module is for running the
telephony edge alone (``python -m salesagent.transport --handler echo``) and for tests.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from salesagent.security import protect
from salesagent.transport.audiofork import audiofork_router
from salesagent.transport.audiosocket import AudioSocketServer
from salesagent.transport.call import CallHandler
from salesagent.transport.config import TelephonySettings
from salesagent.transport.echo import EchoHandler
from salesagent.transport.twilio import twilio_router


class HandlerSpecError(ValueError):
    """``--handler`` names nothing that can handle calls."""


def load_handler(spec: str) -> CallHandler:
    """``echo`` or ``package.module:attr`` where attr is a CallHandler or a zero-argument factory."""
    if spec == "echo":
        return EchoHandler()
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise HandlerSpecError(f"handler {spec!r}: use 'echo' or 'package.module:attribute'")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise HandlerSpecError(f"handler {spec!r}: {exc}") from exc
    handler = target if isinstance(target, CallHandler) else target() if callable(target) else None
    if not isinstance(handler, CallHandler):
        raise HandlerSpecError(f"handler {spec!r} is not a CallHandler (needs 'async def handle(call)')")
    return handler


def create_app(handler: CallHandler, settings: TelephonySettings | None = None) -> FastAPI:
    """FastAPI app with ``/audiofork``, ``/twilio/media`` and (if enabled) the AudioSocket server."""
    settings = settings or TelephonySettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.enable_audiosocket:
            yield
            return
        async with AudioSocketServer(handler, settings) as audiosocket:
            app.state.audiosocket = audiosocket
            yield

    app = FastAPI(title="salesagent telephony", lifespan=lifespan)
    protect(app)  # SALESAGENT_API_TOKEN, when set, guards every route but the health probes
    app.include_router(audiofork_router(handler, settings))
    app.include_router(twilio_router(handler, settings))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
