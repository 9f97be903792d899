"""The console's browser phone: a WebSocket that carries a microphone to the same call core as the
telephony bridges (``Call`` + ``run_call`` + ``OutboundPump``), so what a clinic tries in the
browser is what a caller gets on the phone, barge-in included.

Wire (kept as small as mod_audio_fork's): the page sends one text frame
``{"event": "start", "sample_rate": 16000}`` then binary PCM16 little-endian mono frames, and
``{"event": "stop"}`` to hang up. The server sends binary PCM16 at the same rate (the agent's
voice, paced in real time by the pump) and ``{"event": "clear"}`` when the caller barges in, so the
page drops what it had queued. The server also says ``{"event": "call", "call_id": ...}`` first so
the page can follow the call's live transcript.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from fastapi import WebSocket

from salesagent.transport.call import Call, CallHandler, PlaybackItem
from salesagent.transport.config import TelephonySettings
from salesagent.transport.events import CallStarted
from salesagent.transport.limits import first_message
from salesagent.transport.pacing import OutboundPump
from salesagent.transport.runner import ProtocolError, run_call
from salesagent.transport.wsutil import close_quietly, receive_frame

log = logging.getLogger(__name__)
RATES = (8000, 16000)
_CLOSE_PROTOCOL_ERROR = 1007


class _BrowserSink:
    echoes_marks = False

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws

    async def send_audio(self, pcm: bytes, item: PlaybackItem) -> None:
        await self.ws.send_bytes(pcm)

    async def send_clear(self) -> None:
        await self.ws.send_text(json.dumps({"event": "clear"}))

    async def send_mark(self, item: PlaybackItem) -> None:  # pragma: no cover - echoes_marks is False
        raise NotImplementedError


def parse_start(text: str | None, caller: str | None = None) -> CallStarted:
    """The first frame -> CallStarted with a fresh id; a bad frame is a ProtocolError (closed 1007)."""
    if text is None:
        raise ProtocolError("the first frame must be the JSON 'start' event")
    try:
        message = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"frame is not JSON: {exc.msg}") from exc
    if not isinstance(message, dict) or message.get("event") != "start":
        raise ProtocolError("expected {'event': 'start', ...}")
    rate = message.get("sample_rate", 16000)
    if isinstance(rate, bool) or rate not in RATES:
        raise ProtocolError(f"unsupported sample_rate {rate!r}: use 8000 or 16000")
    return CallStarted(call_id=f"web-{uuid.uuid4().hex[:12]}", sample_rate=int(rate), caller=caller,
                       metadata={"user": caller, "channel": "browser"})


class BrowserPhone:
    """Serves browser-phone WebSockets with one :class:`CallHandler` (the VoiceAgent)."""

    def __init__(self, handler: CallHandler, settings: TelephonySettings | None = None) -> None:
        self.handler = handler
        self.settings = settings or TelephonySettings()

    async def serve(self, ws: WebSocket, user: str | None = None) -> None:
        await ws.accept()
        try:
            started = await first_message(self._start(ws, user), self.settings.first_message_timeout_s, "'start'")
        except ProtocolError as exc:
            await close_quietly(ws, _CLOSE_PROTOCOL_ERROR, str(exc))
            return
        if started is None:
            return
        await ws.send_text(json.dumps({"event": "call", "call_id": started.call_id}))
        call = Call(started, transport="browser", max_inbound_frames=self.settings.inbound_queue_frames)
        pump = OutboundPump(call, _BrowserSink(ws), frame_ms=self.settings.frame_ms,
                            lead_frames=self.settings.lead_frames)
        stopped = await run_call(call, self.handler, pump, self._read(ws, call),
                                 grace_s=self.settings.handler_grace_s)
        await close_quietly(ws, _CLOSE_PROTOCOL_ERROR if stopped.reason == "error" else 1000,
                            stopped.detail or stopped.reason)

    async def _start(self, ws: WebSocket, user: str | None) -> CallStarted | None:
        message = await receive_frame(ws, self.settings.max_frame_bytes)
        if message["type"] == "websocket.disconnect":
            return None
        return parse_start(message.get("text"), user)

    async def _read(self, ws: WebSocket, call: Call) -> None:
        while True:
            message: dict[str, Any] = await receive_frame(ws, self.settings.max_frame_bytes)
            if message["type"] == "websocket.disconnect":
                code = message.get("code", 1006)
                call.push_stopped("hangup" if code in (1000, 1001) else "disconnect", f"close code {code}")
                return
            if message.get("bytes") is not None:
                pcm = message["bytes"]
                if len(pcm) % 2:
                    raise ProtocolError("PCM16 frames must have an even number of bytes")
                call.push_audio(pcm)
            elif '"stop"' in (message.get("text") or ""):
                call.push_stopped("hangup", "stop")
                return
