"""Twilio Media Streams bridge (``<Connect><Stream url="wss://.../twilio/media"/></Connect>``).

Twilio sends JSON text frames: ``connected``, ``start`` (streamSid, callSid, mediaFormat,
customParameters), ``media`` (base64 mu-law 8 kHz, 20 ms), ``dtmf``, ``mark`` (our marks echoed
back once the audio before them has been played) and ``stop``. We answer with ``media`` frames,
``mark`` after each utterance and ``clear`` on barge-in. Played means Twilio echoed the mark; after
a ``clear`` Twilio echoes the pending marks too, but by then they are already counted as cut.

Twilio does not tell the caller's number in the stream; pass it from TwiML as
``<Parameter name="caller" value="{{From}}"/>`` and it arrives in ``customParameters``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket

from salesagent.transport.call import Call, CallHandler, PlaybackItem
from salesagent.transport.config import TelephonySettings
from salesagent.transport.events import CallStarted
from salesagent.transport.g711 import ulaw_decode, ulaw_encode
from salesagent.transport.limits import ConnectionCap, first_message, serve_within
from salesagent.transport.pacing import OutboundPump
from salesagent.transport.runner import ProtocolError, run_call
from salesagent.transport.wsutil import close_quietly, receive_frame

log = logging.getLogger(__name__)

TWILIO_RATE = 8000
_CLOSE_PROTOCOL_ERROR = 1007


class _TwilioSink:
    echoes_marks = True

    def __init__(self, ws: WebSocket, stream_sid: str) -> None:
        self.ws = ws
        self.stream_sid = stream_sid

    async def send_audio(self, pcm: bytes, item: PlaybackItem) -> None:
        payload = base64.b64encode(ulaw_encode(pcm)).decode("ascii")
        await self.ws.send_text(json.dumps({"event": "media", "streamSid": self.stream_sid,
                                           "media": {"payload": payload}}))

    async def send_clear(self) -> None:
        await self.ws.send_text(json.dumps({"event": "clear", "streamSid": self.stream_sid}))

    async def send_mark(self, item: PlaybackItem) -> None:
        # Wire name "<item id>:<mark>" is unique per utterance, so a repeated mark cannot be confused.
        name = f"{item.id}.{item.segment}:{item.mark or ''}"  # the segment: a mark sent before a pause is stale
        await self.ws.send_text(json.dumps({"event": "mark", "streamSid": self.stream_sid,
                                           "mark": {"name": name}}, ensure_ascii=False))


def _loads(text: str | None) -> dict[str, Any]:
    if text is None:
        raise ProtocolError("Twilio sends text frames only, got a binary frame")
    try:
        message = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"frame is not JSON: {exc.msg}") from exc
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        raise ProtocolError("frame has no 'event'")
    return message


def parse_start(message: dict[str, Any]) -> tuple[CallStarted, str]:
    """The ``start`` event -> (CallStarted, streamSid); rejects formats other than mu-law/8k/mono."""
    start = message.get("start")
    if not isinstance(start, dict):
        raise ProtocolError("start event without a 'start' object")
    stream_sid = start.get("streamSid") or message.get("streamSid")
    if not isinstance(stream_sid, str) or not stream_sid:
        raise ProtocolError("start event without streamSid")
    fmt = start.get("mediaFormat") or {}
    if not isinstance(fmt, dict):
        raise ProtocolError("mediaFormat must be an object")
    encoding, rate, channels = fmt.get("encoding"), fmt.get("sampleRate"), fmt.get("channels", 1)
    if encoding != "audio/x-mulaw" or rate != TWILIO_RATE or channels != 1:
        raise ProtocolError(f"unsupported mediaFormat {fmt!r}: expected audio/x-mulaw, 8000 Hz, 1 channel")
    params = start.get("customParameters") or {}
    if not isinstance(params, dict):
        raise ProtocolError("customParameters must be an object")
    caller = params.get("caller") or params.get("from") or params.get("From")
    call_id = start.get("callSid") or stream_sid
    started = CallStarted(call_id=str(call_id), sample_rate=TWILIO_RATE,
                          caller=str(caller) if caller else None,
                          metadata={"streamSid": stream_sid, "callSid": start.get("callSid"),
                                    "accountSid": start.get("accountSid"), "tracks": start.get("tracks"),
                                    "customParameters": params})
    return started, stream_sid


class TwilioBridge:
    """Serves Twilio Media Streams connections with one :class:`CallHandler`."""

    def __init__(self, handler: CallHandler, settings: TelephonySettings | None = None) -> None:
        self.handler = handler
        self.settings = settings or TelephonySettings()
        self.cap = ConnectionCap(self.settings.max_connections, "twilio")

    async def serve(self, ws: WebSocket) -> None:
        await serve_within(self.cap, ws, self._serve)

    async def _serve(self, ws: WebSocket) -> None:
        await ws.accept()
        try:
            begun = await first_message(self._start(ws), self.settings.first_message_timeout_s, "'start' event")
        except ProtocolError as exc:
            log.error("Twilio stream rejected", extra={"context": {"error": str(exc)}})
            await close_quietly(ws, _CLOSE_PROTOCOL_ERROR, str(exc))
            return
        if begun is None:
            return
        started, stream_sid = begun
        call = Call(started, transport="twilio", max_inbound_frames=self.settings.inbound_queue_frames)
        pump = OutboundPump(call, _TwilioSink(ws, stream_sid), frame_ms=self.settings.frame_ms,
                            lead_frames=self.settings.lead_frames)
        stopped = await run_call(call, self.handler, pump, self._read(ws, call),
                                 grace_s=self.settings.handler_grace_s)
        code = _CLOSE_PROTOCOL_ERROR if stopped.reason == "error" else 1000
        await close_quietly(ws, code, stopped.detail or stopped.reason)

    async def _start(self, ws: WebSocket) -> tuple[CallStarted, str] | None:
        while True:
            message = await receive_frame(ws, self.settings.max_frame_bytes)
            if message["type"] == "websocket.disconnect":
                return None
            event = _loads(message.get("text"))
            if event["event"] == "connected":
                continue
            if event["event"] != "start":
                raise ProtocolError(f"expected 'start', got {event['event']!r}")
            return parse_start(event)

    async def _read(self, ws: WebSocket, call: Call) -> None:
        while True:
            message = await receive_frame(ws, self.settings.max_frame_bytes)
            if message["type"] == "websocket.disconnect":
                code = message.get("code", 1006)
                call.push_stopped("hangup" if code in (1000, 1001) else "disconnect", f"close code {code}")
                return
            event = _loads(message.get("text"))
            kind = event["event"]
            if kind == "media":
                media = event.get("media")
                if not isinstance(media, dict) or not isinstance(media.get("payload"), str):
                    raise ProtocolError("media event without a payload")
                if media.get("track", "inbound") not in ("inbound", "inbound_track"):
                    continue  # with tracks="both" Twilio also streams what the caller hears
                try:
                    ulaw = base64.b64decode(media["payload"], validate=True)
                except binascii.Error as exc:
                    raise ProtocolError(f"media payload is not base64: {exc}") from exc
                call.push_audio(ulaw_decode(ulaw))
            elif kind == "mark":
                self._mark(call, event)
            elif kind == "dtmf":
                digit = (event.get("dtmf") or {}).get("digit")
                if not isinstance(digit, str) or len(digit) != 1:
                    raise ProtocolError(f"bad DTMF digit {digit!r}")
                call.push_dtmf(digit)
            elif kind == "stop":
                call.push_stopped("hangup", "stop")
                return
            else:
                log.info("Twilio event ignored", extra={"context": {"call_id": call.call_id, "event": kind}})

    @staticmethod
    def _mark(call: Call, event: dict[str, Any]) -> None:
        name = (event.get("mark") or {}).get("name")
        ref, _, _ = str(name).partition(":")
        item_id, _, segment = ref.partition(".")
        item = call.find_unplayed(int(item_id)) if item_id.isdigit() else None
        if item is not None:
            call.played_up_to(item, int(segment) if segment.isdigit() else None)
        else:  # cleared before Twilio confirmed it, or not ours
            log.debug("mark ignored", extra={"context": {"call_id": call.call_id, "mark": name}})


def twilio_router(
    handler: CallHandler, settings: TelephonySettings | None = None, path: str = "/twilio/media"
) -> APIRouter:
    """A router to mount into any FastAPI app."""
    bridge = TwilioBridge(handler, settings)
    router = APIRouter()

    @router.websocket(path)
    async def twilio_endpoint(ws: WebSocket) -> None:
        await bridge.serve(ws)

    return router
