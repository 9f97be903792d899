"""TTS gateway: ``POST /synthesize`` streams Russian speech back in 200 ms chunks.

Request: ``{"text", "voice"?, "sample_rate"?: 8000|16000|22050, "format"?: "wav"|"pcm"}``.
The response starts as soon as the first sentence is synthesised (or found in the cache); later
sentences are made while the first plays. ``wav`` starts with a 44-byte header whose sizes are
0xFFFFFFFF (length unknown while streaming; players and sox read it to the end), ``pcm`` is raw
PCM16 little-endian mono. Headers ``X-Sample-Rate`` and ``X-Voice`` say what came back.

Errors are 4xx with ``{"detail": "<what is wrong>"}``: empty text (422), text over
``SALESAGENT_TTS_MAX_TEXT_CHARS`` (413), unknown voice (404), unsupported rate or format (422).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from salesagent.security import protect
from salesagent.services.limits import BodyLimit
from salesagent.speech.tts import BadRequestError, SpeechSynthesizer, UnknownVoiceError, build_synthesizer
from salesagent.speech.tts.audio import wav_header
from salesagent.speech.tts_config import OUTPUT_RATES, TtsSettings

log = logging.getLogger(__name__)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


class SynthesizeRequest(BaseModel):
    """The body of ``POST /synthesize`` (validated by hand, for messages a client can act on)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, description="Russian text; digits, dates, prices are read as words.")
    voice: str | None = Field(default=None, description="A voice of the engine (GET /ready lists them).")
    sample_rate: Literal[8000, 16000, 22050] | None = Field(  # OUTPUT_RATES, as an enum in the OpenAPI
        default=None, description=f"One of {', '.join(map(str, OUTPUT_RATES))}; default: the gateway's."
    )
    format: Literal["wav", "pcm"] = Field(default="wav", description="Streaming WAV, or raw PCM16 mono.")


class ErrorDetail(BaseModel):
    detail: str


_AUDIO = {"schema": {"type": "string", "format": "binary"}}
SYNTHESIZE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "PCM16 mono audio, streamed as it is synthesised (cut off if synthesis fails midway)",
          "content": {"audio/wav": _AUDIO, "application/octet-stream": _AUDIO}},
    400: {"model": ErrorDetail, "description": "the body is not a JSON object"},
    401: {"model": ErrorDetail, "description": "SALESAGENT_API_TOKEN is set and the request lacks it"},
    404: {"model": ErrorDetail, "description": "no such voice"},
    413: {"model": ErrorDetail, "description": "the text is over the limit"},
    422: {"model": ErrorDetail, "description": "a field is wrong, or the voice cannot read this text"},
    503: {"model": ErrorDetail, "description": "the engine does not answer"},
}


async def _engine_problem(synth: SpeechSynthesizer) -> str | None:
    """Why the engine does not answer, or None: a real synthesis of a short phrase (cached after
    the first time) proves it does."""
    try:
        pcm = await asyncio.to_thread(synth.synthesize, "Готово.", synth.default_rate)
    except Exception as exc:  # any engine failure: the reason is reported
        return str(exc)
    return None if pcm else "the engine produced no audio"


class AbortableStream(StreamingResponse):
    """A streamed body that, when synthesis fails midway, is cut off instead of ending cleanly.

    The status line (200) is gone by then; ending the chunked body normally would hand the
    client truncated audio that looks whole. Without the final chunk the server closes the
    connection and every HTTP client reports an incomplete body."""

    async def stream_response(self, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        try:
            async for chunk in self.body_iterator:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except Exception as exc:
            log.error("tts synthesis failed mid-stream; response cut off", extra={"context": {"error": str(exc)}})
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def create_app(settings: TtsSettings | None = None, *, synthesizer: SpeechSynthesizer | None = None) -> FastAPI:
    """Build the gateway; the engine starts here, so a missing festival fails at start, not per call.

    ``synthesizer`` lets a process that already holds one (tests, an all-in-one server) share it;
    then the caller owns it and it is not closed on shutdown.
    """
    settings = settings or TtsSettings()
    owned = synthesizer is None
    synth = synthesizer or build_synthesizer(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned:
                synth.close()

    app = FastAPI(title="salesagent TTS gateway", lifespan=lifespan)
    protect(app)  # SALESAGENT_API_TOKEN, when set, guards every route but the health probes
    app.state.synthesizer = synth
    # Refused before it is read (Content-Length) or as soon as a chunked body passes the limit.
    app.add_middleware(BodyLimit, max_bytes=settings.max_text_chars * 4 + 1024,
                       detail=f"request body too large: text is limited to {settings.max_text_chars} characters")

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        problem = await _engine_problem(synth)
        if problem is not None:
            return JSONResponse({"ready": False, "reason": problem}, status_code=503)
        return JSONResponse({"ready": True, "engine": synth.engine.name, "voices": synth.engine.voices,
                             "sample_rates": list(OUTPUT_RATES)})

    @app.post("/synthesize", response_class=Response, responses=SYNTHESIZE_RESPONSES,
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": SynthesizeRequest.model_json_schema()}}}})
    async def synthesize(request: Request):
        body = await request.body()  # bounded by BodyLimit: never more than max_body bytes
        try:
            payload = json.loads(body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "body must be JSON: {\"text\": \"...\"}")
        if not isinstance(payload, dict):
            return _error(400, "body must be a JSON object: {\"text\": \"...\"}")
        unknown = set(payload) - {"text", "voice", "sample_rate", "format"}
        if unknown:
            return _error(422, f"unknown field(s): {', '.join(sorted(unknown))}")
        text, voice = payload.get("text"), payload.get("voice")
        rate, fmt = payload.get("sample_rate"), payload.get("format", "wav")
        rate = synth.default_rate if rate is None else rate
        if not isinstance(text, str) or not text.strip():
            return _error(422, "text must be a non-empty string")
        if len(text) > settings.max_text_chars:
            return _error(413, f"text is {len(text)} characters; the limit is {settings.max_text_chars}")
        if voice is not None and not isinstance(voice, str):
            return _error(422, "voice must be a string")
        if not isinstance(rate, int) or isinstance(rate, bool):
            return _error(422, f"sample_rate must be one of {', '.join(map(str, OUTPUT_RATES))}")
        if fmt not in ("wav", "pcm"):
            return _error(422, "format must be \"wav\" or \"pcm\"")
        try:
            chosen, rate = synth.resolve(voice, rate)
        except UnknownVoiceError as exc:
            return _error(404, str(exc))
        except BadRequestError as exc:
            return _error(422, str(exc))
        if not synth.sentences(text):
            return _error(422, "text has nothing to say after normalisation")

        started = time.perf_counter()
        stream = synth.stream(text, rate, chosen)
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            return _error(422, "text has nothing to say: the engine produced no audio")
        except Exception as exc:
            log.error("tts synthesis failed", extra={"context": {"error": str(exc)}})
            if await _engine_problem(synth) is None:  # the engine is fine: it is this text it cannot read
                return _error(422, f"the voice cannot read this text: {exc}")
            return _error(503, f"synthesis failed: {exc}")
        first_ms = round((time.perf_counter() - started) * 1000)
        log.info("tts request", extra={"context": {"chars": len(text), "rate": rate, "first_chunk_ms": first_ms}})

        async def body_stream() -> AsyncIterator[bytes]:
            if fmt == "wav":
                yield wav_header(rate)
            yield first
            async for chunk in stream:
                yield chunk

        media = "audio/wav" if fmt == "wav" else "application/octet-stream"
        headers = {"X-Sample-Rate": str(rate), "X-Voice": chosen, "X-First-Chunk-Ms": str(first_ms)}
        return AbortableStream(body_stream(), media_type=media, headers=headers)

    return app
