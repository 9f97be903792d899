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

The model loads ONCE in the lifespan (in a thread, so ``/health`` answers while it loads);
``/ready`` turns 200 when it is loaded. All connections share one :class:`DecodeScheduler`.
``WS /ws/decode`` decodes whole clips with a per-request prompt for remote agent workers
(``services/asr_decode.py``, ``speech/asr/remote.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from salesagent.security import protect
from salesagent.services.asr_decode import serve_decode
from salesagent.speech.asr.base import AsrEngine
from salesagent.speech.asr.prompt import vocabulary_prompt
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.streaming import AsrEvent, Discarded, Final, Partial, StreamingTranscriber
from salesagent.speech.asr.whisper import FasterWhisperEngine, check_device, check_model_path
from salesagent.speech.audio import AudioFormatError, check_rate
from salesagent.speech.config import AsrSettings, VadSettings
from salesagent.speech.vad import SpeechEnded, SpeechStarted
from salesagent.transport.wsutil import CLOSE_TOO_BIG, MAX_FRAME_BYTES, FrameTooLarge, receive_frame

log = logging.getLogger(__name__)


@dataclass
class GatewayState:
    settings: AsrSettings
    vad: VadSettings
    prompt: str | None
    engine: AsrEngine | None = None
    scheduler: DecodeScheduler | None = None
    load_error: str | None = None
    connections: int = 0


def event_to_message(event: AsrEvent) -> dict:
    """The JSON frame for one event (the wire format above)."""
    if isinstance(event, Final):
        return {
            "type": "final",
            "text": event.text,
            "start": event.start,
            "end": event.end,
            "confidence": event.confidence,
        }
    if isinstance(event, Partial):
        return {"type": "partial", "text": event.text, "start": event.start, "end": event.end}
    if isinstance(event, SpeechStarted):
        return {"type": "speech_started", "start": event.start}
    if isinstance(event, SpeechEnded):
        return {"type": "speech_ended", "start": event.start, "end": event.end}
    if isinstance(event, Discarded):
        return {"type": "discarded", "start": event.start, "end": event.end, "reason": event.reason}
    raise TypeError(f"unknown event {event!r}")


def _default_prompt(settings: AsrSettings) -> str | None:
    if not settings.use_profile_prompt:
        return None
    from salesagent.clinic.profile import load_profile
    from salesagent.config import get_settings

    return vocabulary_prompt(load_profile(get_settings().profile_path), settings.prompt_max_chars) or None


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
        await _serve_when_loaded(ws, state, lambda: _serve_stream(ws, state))

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


async def _serve_stream(ws: WebSocket, state: GatewayState) -> None:
    """One client: parse frames, feed the transcriber, forward its events. Bad frames -> error frames."""
    assert state.scheduler is not None
    stream: StreamingTranscriber | None = None
    sender: asyncio.Task[None] | None = None
    send_lock = asyncio.Lock()

    async def send(message: dict) -> None:
        async with send_lock:
            await ws.send_text(json.dumps(message, ensure_ascii=False))

    async def forward(st: StreamingTranscriber) -> None:
        async for event in st.events():
            await send(event_to_message(event))

    def open_stream(rate: int) -> StreamingTranscriber:
        nonlocal sender
        st = StreamingTranscriber(
            state.scheduler,  # type: ignore[arg-type]
            sample_rate=rate,
            asr=state.settings,
            vad=state.vad,
            prompt=state.prompt,
        )
        sender = asyncio.create_task(forward(st))
        log.info("ASR stream opened", extra={"context": {"stream": st.stream_id, "sample_rate": rate}})
        return st

    try:
        while True:
            try:
                message = await receive_frame(ws, MAX_FRAME_BYTES)
            except FrameTooLarge as exc:
                log.warning("ASR frame refused", extra={"context": {"size": exc.size, "limit": exc.limit}})
                await send({"type": "error", "message": f"{exc}; connection closed"})
                await ws.close(code=CLOSE_TOO_BIG, reason="message too big")
                break
            if message["type"] == "websocket.disconnect":
                break
            data, text = message.get("bytes"), message.get("text")
            if data is not None:
                if len(data) % 2:
                    await send(
                        {
                            "type": "error",
                            "message": f"odd byte count {len(data)}: PCM16 frames need whole samples; frame dropped",
                        }
                    )
                    continue
                if stream is None:
                    stream = open_stream(16000)
                stream.feed(data)
                continue
            if text is None:
                continue
            try:
                command = json.loads(text)
                if not isinstance(command, dict):
                    raise ValueError("a JSON object is expected")
            except ValueError as exc:
                await send({"type": "error", "message": f"text frame is not a JSON object: {exc}"})
                continue
            if "sample_rate" in command:
                if stream is not None:
                    await send({"type": "error", "message": "sample_rate must be sent before any audio"})
                    continue
                try:
                    stream = open_stream(check_rate(command["sample_rate"]))
                except AudioFormatError as exc:
                    await send({"type": "error", "message": str(exc)})
                continue
            if command.get("type") == "flush":
                if stream is not None:
                    stream.finish()
                    if sender is not None:
                        await sender
                    rate = stream.sample_rate
                    stream = open_stream(rate)
                await send({"type": "flushed"})
                continue
            await send({"type": "error", "message": f"unknown command {text[:100]!r}"})
    except WebSocketDisconnect:
        pass
    finally:
        if stream is not None:
            stream.cancel()
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
