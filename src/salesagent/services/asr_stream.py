"""One ``WS /ws/transcribe`` client of the ASR gateway: its frames in, its transcript events out.

A small object per connection rather than one long loop, so each frame kind (audio, the rate,
``flush``, ``expect``) is one method with its own error reply, and a bad frame costs only itself.
``expect`` is what the agent's own engine does after every question: a client that knows the
question just asked primes Whisper with that question's prompt (the profile's ``asr_prompts``
line for the dialog state, then the question) and sets the endpoint for its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from salesagent.dialog.states import State
from salesagent.speech.asr.base import AsrEngine
from salesagent.speech.asr.prompt import QuestionPrompts
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.streaming import AsrEvent, Discarded, Final, Partial, StreamingTranscriber
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
    prompts: QuestionPrompts | None = None  # per-question prompts for clients that send ``expect``
    engine: AsrEngine | None = None
    scheduler: DecodeScheduler | None = None
    load_error: str | None = None
    connections: int = 0


def event_to_message(event: AsrEvent) -> dict:
    """The JSON frame for one event (the wire format in services/asr_gateway.py)."""
    if isinstance(event, Final):
        return {"type": "final", "text": event.text, "start": event.start, "end": event.end,
                "confidence": event.confidence}
    if isinstance(event, Partial):
        return {"type": "partial", "text": event.text, "start": event.start, "end": event.end}
    if isinstance(event, SpeechStarted):
        return {"type": "speech_started", "start": event.start}
    if isinstance(event, SpeechEnded):
        return {"type": "speech_ended", "start": event.start, "end": event.end}
    if isinstance(event, Discarded):
        return {"type": "discarded", "start": event.start, "end": event.end, "reason": event.reason}
    raise TypeError(f"unknown event {event!r}")


class BadFrame(ValueError):
    """A frame the client must fix: answered with an error frame, the connection stays open."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a client said of the question just asked: the prompt and the endpoint for its answer."""

    prompt: str | None
    endpoint_ms: int | None


class TranscribeSession:
    """One client: parse frames, feed the transcriber, forward its events. Bad frames -> error frames."""

    def __init__(self, ws: WebSocket, state: GatewayState) -> None:
        assert state.scheduler is not None
        self.ws, self.state, self.scheduler = ws, state, state.scheduler
        self.stream: StreamingTranscriber | None = None
        self.expectation: Expectation | None = None
        self._sender: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        try:
            await self._receive()
        except WebSocketDisconnect:
            pass
        finally:
            await self._close()

    async def _receive(self) -> None:
        while True:
            try:
                message = await receive_frame(self.ws, MAX_FRAME_BYTES)
            except FrameTooLarge as exc:
                log.warning("ASR frame refused", extra={"context": {"size": exc.size, "limit": exc.limit}})
                await self.send({"type": "error", "message": f"{exc}; connection closed"})
                await self.ws.close(code=CLOSE_TOO_BIG, reason="message too big")
                return
            if message["type"] == "websocket.disconnect":
                return
            try:
                await self._frame(message.get("bytes"), message.get("text"))
            except BadFrame as exc:
                await self.send({"type": "error", "message": str(exc)})

    async def send(self, message: dict) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(message, ensure_ascii=False))

    # -- frames ----------------------------------------------------------------------------------
    async def _frame(self, data: bytes | None, text: str | None) -> None:
        if data is not None:
            if len(data) % 2:
                raise BadFrame(f"odd byte count {len(data)}: PCM16 frames need whole samples; frame dropped")
            if self.stream is None:
                self._open(16000)
            assert self.stream is not None
            self.stream.feed(data)
        elif text is not None:
            await self._command(text)

    async def _command(self, text: str) -> None:
        try:
            command = json.loads(text)
        except ValueError as exc:
            raise BadFrame(f"text frame is not a JSON object: {exc}") from None
        if not isinstance(command, dict):
            raise BadFrame("text frame is not a JSON object: a JSON object is expected")
        if "sample_rate" in command:
            self._rate(command["sample_rate"])
        elif command.get("type") == "flush":
            await self._flush()
        elif command.get("type") == "expect":
            self._expect(command)
        else:
            raise BadFrame(f"unknown command {text[:100]!r}")

    def _rate(self, rate: Any) -> None:
        if self.stream is not None:
            raise BadFrame("sample_rate must be sent before any audio")
        try:
            self._open(check_rate(rate))
        except AudioFormatError as exc:
            raise BadFrame(str(exc)) from None

    async def _flush(self) -> None:
        if self.stream is not None:
            self.stream.finish()
            if self._sender is not None:
                await self._sender
            self._open(self.stream.sample_rate)
        await self.send({"type": "flushed"})

    def _expect(self, command: dict) -> None:
        """``{"type": "expect", "state": "ASK_PHONE", "question": "...", "endpoint_ms": 700}``."""
        state, question, endpoint = command.get("state"), command.get("question", ""), command.get("endpoint_ms")
        if not isinstance(state, str) or state not in State.__members__:
            raise BadFrame(f"expect: 'state' must be a dialog state, e.g. ASK_PHONE; got {str(state)[:60]!r}")
        if not isinstance(question, str) or len(question) > 1000:
            raise BadFrame("expect: 'question' must be a string of at most 1000 characters")
        if endpoint is not None and (isinstance(endpoint, bool) or not isinstance(endpoint, int)
                                     or not 64 <= endpoint <= 5000):
            raise BadFrame("expect: 'endpoint_ms' must be an integer 64..5000")
        prompts = self.state.prompts
        prompt = prompts.for_question(state, question) if prompts is not None else self.state.prompt
        self.expectation = Expectation(prompt, endpoint)
        if self.stream is not None:
            self.stream.expect(prompt, endpoint)

    # -- stream ----------------------------------------------------------------------------------
    def _open(self, rate: int) -> None:
        stream = StreamingTranscriber(self.scheduler, sample_rate=rate, asr=self.state.settings,
                                      vad=self.state.vad, prompt=self.state.prompt)
        if self.expectation is not None:
            stream.expect(self.expectation.prompt, self.expectation.endpoint_ms)
        self.stream = stream
        self._sender = asyncio.create_task(self._forward(stream))
        log.info("ASR stream opened", extra={"context": {"stream": stream.stream_id, "sample_rate": rate}})

    async def _forward(self, stream: StreamingTranscriber) -> None:
        async for event in stream.events():
            await self.send(event_to_message(event))

    async def _close(self) -> None:
        if self.stream is not None:
            self.stream.cancel()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender
