"""ASR gateway: streaming Russian speech recognition over a WebSocket (``WS /ws/transcribe``).

Protocol (one connection = one audio stream):

* client -> server, optional first TEXT frame: ``{"sample_rate": 8000}`` (8000 or 16000; default
  16000). ``{"type": "flush"}`` closes the stream: the open utterance is finalised, every final is
  sent, then ``{"type": "flushed"}``; audio after it starts a new stream (times restart at 0).
* client -> server, BINARY frames: PCM16 little-endian mono, an even byte count, at most 64 000
  bytes (2 s at 16 kHz). A larger frame of either kind is dropped unread and the connection is
  closed with 1009 "message too big" after an error frame: one 16 MB frame froze every stream.
* server -> client, TEXT frames (JSON):
  ``{"type": "speech_started", "start": s}``, ``{"type": "partial", "text": ..., "start": s}``,
  ``{"type": "speech_ended", "start": s, "end": s}``,
  ``{"type": "final", "text": ..., "start": s, "end": s, "confidence": c}``,
  ``{"type": "error", "message": ...}`` for bad input; the connection stays open and other
  clients are never affected.
* client -> server, optional TEXT frame at any time:
  ``{"type": "expect", "state": "ASK_PHONE", "question": "Ваш номер телефона?", "endpoint_ms": 700}``:
  the question just asked (a dialog state; the question's text and the endpoint are optional):
  what follows is decoded with that question's prompt, as the agent's own engine does.

The model loads ONCE in the lifespan (in a thread, so ``/health`` answers while it loads);
``/ready`` turns 200 when it is loaded. All connections share one :class:`DecodeScheduler`.
``WS /ws/decode`` decodes whole clips with a per-request prompt for remote agent workers
(``services/asr_decode.py``, ``speech/asr/remote.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, WebSocket
from fastapi.responses import JSONResponse

from salesagent.security import protect
from salesagent.services.asr_decode import serve_decode
from salesagent.services.asr_stream import GatewayState, TranscribeSession, event_to_message
from salesagent.speech.asr.base import AsrEngine
from salesagent.speech.asr.prompt import QuestionPrompts, vocabulary_prompt
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.whisper import FasterWhisperEngine, check_device, check_model_path
from salesagent.speech.config import AsrSettings, VadSettings

__all__ = ["GatewayState", "create_app", "event_to_message"]

log = logging.getLogger(__name__)


def _default_prompt(settings: AsrSettings) -> str | None:
    if not settings.use_profile_prompt:
        return None
    return vocabulary_prompt(_profile(), settings.stream_prompt_max_chars) or None


def _profile():
    from salesagent.clinic.profile import load_profile
    from salesagent.config import get_settings

    return load_profile(get_settings().profile_path)


def create_app(
    settings: AsrSettings | None = None,
    *,
    vad: VadSettings | None = None,
    engine: AsrEngine | None = None,
    prompt: str | None = None,
) -> FastAPI:
    """Build the gateway. Configuration errors (no model folder, CUDA absent) raise here, at start.

    ``engine`` lets a process that already holds a model (tests, an all-in-one server) share it.
    """
    settings = settings or AsrSettings()
    if engine is None:
        check_device(settings)
        check_model_path(settings.model_path)
    state = GatewayState(
        settings=settings,
        vad=vad or VadSettings(),
        prompt=prompt if prompt is not None else _default_prompt(settings),
        prompts=(QuestionPrompts(_profile(), settings.prompt_max_chars, settings.stream_prompt_max_chars)
                 if settings.use_profile_prompt else None),
        engine=engine,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = asyncio.create_task(_load(state))
        try:
            yield
        finally:
            loader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loader
            if state.scheduler is not None:
                await state.scheduler.aclose()

    app = FastAPI(title="salesagent ASR gateway", lifespan=lifespan)
    protect(app)  # SALESAGENT_API_TOKEN, when set, guards every route but the health probes
    app.state.gateway = state

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "connections": state.connections}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        if state.scheduler is None:
            body = {"ready": False, "reason": state.load_error or "model loading"}
            return JSONResponse(body, status_code=503)
        sched = state.scheduler
        return JSONResponse(
            {
                "ready": True,
                "engine": getattr(state.engine, "name", type(state.engine).__name__),
                "queued": sched.queued,
                "running": sched.running,
                "connections": state.connections,
            }
        )

    @app.websocket("/ws/transcribe")
    async def transcribe(ws: WebSocket) -> None:
        await _serve_when_loaded(ws, state, lambda: TranscribeSession(ws, state).run())

    @app.websocket("/ws/decode")
    async def decode(ws: WebSocket) -> None:
        """Whole clips with a per-request prompt (services/asr_decode.py): remote agent workers."""
        await _serve_when_loaded(ws, state, lambda: serve_decode(ws, state.scheduler))

    return app


async def _serve_when_loaded(ws: WebSocket, state: GatewayState, serve) -> None:
    """Accept, refuse with 1013 while the model loads, count the connection while ``serve()`` runs."""
    await ws.accept()
    if state.scheduler is None:
        await ws.send_json({"type": "error", "message": state.load_error or "ASR model is still loading"})
        await ws.close(code=1013)
        return
    state.connections += 1
    try:
        await serve()
    finally:
        state.connections -= 1


async def _load(state: GatewayState) -> None:
    try:
        if state.engine is None:
            state.engine = await asyncio.to_thread(FasterWhisperEngine, state.settings)
        state.scheduler = DecodeScheduler(state.engine, workers=state.settings.workers)
    except Exception as exc:
        state.load_error = f"ASR model failed to load: {exc}"
        log.error(state.load_error)
