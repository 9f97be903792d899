"""Whole-clip decodes over the ASR gateway (``WS /ws/decode``): one ASR server for every worker.

The streaming endpoint (``/ws/transcribe``) runs its own VAD and one fixed prompt; an agent worker
already has its own endpointing and asks a different question each turn, so it needs the final
decode of a clip it cut itself, primed with *its* prompt. Protocol (a connection may carry many
clips, one after another):

* client -> server TEXT ``{"type": "decode", "sample_rate": 16000, "prompt": "..." | null}``
* client -> server BINARY PCM16 LE mono frames (each at most 64 000 bytes; 30 s of audio at most)
* client -> server TEXT ``{"type": "end"}`` -> server TEXT ``{"type": "transcript", "text": ...,
  "segments": [...], "confidence": c, "audio_s": s, "decode_s": s, "dropped": [...]}``
* bad input -> ``{"type": "error", "message": ...}``; the clip is dropped, the connection stays open.

Decodes go through the gateway's one :class:`DecodeScheduler` as finals, so remote workers queue
with the gateway's own streams instead of oversubscribing the model.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from fastapi import WebSocket, WebSocketDisconnect

from salesagent.speech.asr.remote import transcript_to_message
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.audio import AudioFormatError, check_rate, pcm16_to_float32, resample
from salesagent.transport.wsutil import CLOSE_TOO_BIG, MAX_FRAME_BYTES, FrameTooLarge, receive_frame

log = logging.getLogger(__name__)

MAX_CLIP_S = 30.0
"""Whisper's window: a longer clip is refused (the worker forces a final well before this)."""


def _to_16k(pcm: bytes, rate: int) -> np.ndarray:
    audio = pcm16_to_float32(pcm)
    return audio if rate == 16000 else resample(audio, rate, 16000)


class _Clip:
    def __init__(self, rate: int, prompt: str | None) -> None:
        self.rate, self.prompt, self.chunks, self.size = rate, prompt, [], 0

    def add(self, data: bytes) -> str | None:
        if len(data) % 2:
            return f"odd byte count {len(data)}: PCM16 frames need whole samples; clip dropped"
        self.size += len(data)
        if self.size / 2 / self.rate > MAX_CLIP_S:
            return f"clip longer than {MAX_CLIP_S:.0f} s; clip dropped"
        self.chunks.append(data)
        return None


def _start(command: dict[str, Any]) -> _Clip:
    prompt = command.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise AudioFormatError("prompt must be a string or null")
    return _Clip(check_rate(command.get("sample_rate", 16000)), prompt or None)


class _Session:
    """One connection's state: the clip being received, and the first error in it (reported at end)."""

    def __init__(self, scheduler: DecodeScheduler, stream_id: str) -> None:
        self.scheduler, self.stream_id = scheduler, stream_id
        self.clip: _Clip | None = None
        self.error: str | None = None

    def audio(self, data: bytes) -> None:
        if self.clip is None:
            self.error = self.error or 'audio before a decode command; send {"type": "decode"} first'
        else:
            self.error = self.error or self.clip.add(data)

    async def command(self, text: str) -> dict[str, Any] | None:
        """A text frame -> the reply to send (None: nothing to say). Raises ValueError for bad input."""
        command = json.loads(text)
        if not isinstance(command, dict):
            raise ValueError("a JSON object is expected")
        kind = command.get("type")
        if kind == "decode":
            self.clip, self.error = _start(command), None
            return None
        if kind != "end":
            raise ValueError(f"unknown command {text[:100]!r}")
        clip, error = self.clip, self.error
        self.clip, self.error = None, None
        if error or clip is None:
            raise ValueError(error or "end without a decode command")
        audio = _to_16k(b"".join(clip.chunks), clip.rate)
        try:
            transcript = await self.scheduler.submit_final(self.stream_id, audio, clip.prompt)
        except Exception as exc:  # the engine failed on this clip: say so, keep serving
            log.exception("remote decode failed", extra={"context": {"stream": self.stream_id}})
            raise ValueError(f"decode failed: {exc}") from exc
        return transcript_to_message(transcript)


async def serve_decode(ws: WebSocket, scheduler: DecodeScheduler) -> None:
    """One client: clips in, transcripts out. Every bad frame is answered, never fatal to others."""
    session = _Session(scheduler, f"remote-{id(ws)}")

    async def send(message: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(message, ensure_ascii=False))

    try:
        while True:
            try:
                message = await receive_frame(ws, MAX_FRAME_BYTES)
            except FrameTooLarge as exc:
                await send({"type": "error", "message": f"{exc}; connection closed"})
                await ws.close(code=CLOSE_TOO_BIG, reason="message too big")
                return
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                session.audio(message["bytes"])
            elif message.get("text") is not None:
                try:
                    reply = await session.command(message["text"])
                except (ValueError, AudioFormatError) as exc:
                    reply = {"type": "error", "message": str(exc)}
                if reply is not None:
                    await send(reply)
    except WebSocketDisconnect:
        return
