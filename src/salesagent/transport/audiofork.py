"""FreeSWITCH ``mod_audio_fork`` bridge: a WebSocket endpoint speaking ``audio.drachtio.org``.

FreeSWITCH runs ``uuid_audio_fork <uuid> start <url> <mono|mixed|stereo> <8k|16k> <metadata>``:
it connects, sends ``<metadata>`` as the first text frame, then the caller's audio as binary L16
frames (20 ms each); stereo frames interleave caller (left) and agent (right). The module never
states the rate or channel count on the wire, so the server reads them from the metadata JSON
(``sample_rate``/``sampling``, ``channels``/``mix_type``) or the URL query
(``?sample_rate=16000&channels=2``), falling back to the configured default.

Agent audio goes back either as binary L16 frames (``playback=stream``, the bidirectional variants
of the module) with ``{"type":"killAudio"}`` on barge-in, or as ``{"type":"playAudio",...}`` JSON
chunks (``playback=playaudio``, the upstream module, which saves each chunk to a file and raises
``mod_audio_fork::play_audio`` for the dialplan to play).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket

from salesagent.transport.call import Call, CallHandler, PlaybackItem
from salesagent.transport.config import TelephonySettings
from salesagent.transport.events import CallStarted
from salesagent.transport.limits import ConnectionCap, first_message, serve_within
from salesagent.transport.pacing import OutboundPump
from salesagent.transport.pcm import PcmError, check_pcm16, left_channel
from salesagent.transport.runner import ProtocolError, run_call
from salesagent.transport.wsutil import close_quietly, receive_frame, send_text_quietly

log = logging.getLogger(__name__)

SUBPROTOCOL = "audio.drachtio.org"
_CALL_ID_KEYS = ("uuid", "call_id", "callId", "callid", "call_uuid", "Unique-ID")
_CALLER_KEYS = ("caller", "from", "caller_id_number", "callerIdNumber", "ani")
_RATE_KEYS = ("sample_rate", "sampleRate", "sampling", "rate")
_CHANNEL_KEYS = ("channels", "mix_type", "mixType", "mix")
_CLOSE_PROTOCOL_ERROR = 1007


def parse_rate(value: Any) -> int:
    """``8000``, ``"16000"``, ``"8k"``, ``"16k"`` -> 8000/16000; anything else is an error."""
    text = str(value).strip().lower()
    rates = {"8000": 8000, "8k": 8000, "16000": 16000, "16k": 16000}
    if isinstance(value, bool) or text not in rates:
        raise ProtocolError(f"unsupported sample rate {value!r}: use 8000/8k or 16000/16k")
    return rates[text]


def parse_channels(value: Any) -> int:
    """``1``/``mono``/``mixed`` -> 1, ``2``/``stereo`` -> 2."""
    text = str(value).strip().lower()
    channels = {"1": 1, "mono": 1, "mixed": 1, "2": 2, "stereo": 2}
    if isinstance(value, bool) or text not in channels:
        raise ProtocolError(f"unsupported channels {value!r}: use 1/mono/mixed or 2/stereo")
    return channels[text]


def _first(mapping: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((mapping[k] for k in keys if mapping.get(k) not in (None, "")), None)


def call_params(metadata: dict[str, Any], query: dict[str, str], default_rate: int) -> tuple[int, int]:
    """(sample_rate, channels) from the metadata first, then the URL query, then the default."""
    rate = _first(metadata, _RATE_KEYS) or _first(query, _RATE_KEYS)
    channels = _first(metadata, _CHANNEL_KEYS) or _first(query, _CHANNEL_KEYS)
    return (parse_rate(rate) if rate is not None else default_rate,
            parse_channels(channels) if channels is not None else 1)


def parse_dtmf(message: dict[str, Any]) -> str | None:
    """A DTMF notice sent with ``uuid_audio_fork <uuid> send_text``: ``{"type":"dtmf","digit":"5"}``
    (or Twilio-like ``{"event":"dtmf","dtmf":{"digit":"5"}}``)."""
    kind = message.get("type") or message.get("event")
    if kind != "dtmf":
        return None
    digit = message.get("digit")
    if digit is None and isinstance(message.get("dtmf"), dict):
        digit = message["dtmf"].get("digit")
    if not isinstance(digit, str) or len(digit) != 1 or digit not in "0123456789*#ABCDabcd":
        raise ProtocolError(f"bad DTMF digit {digit!r}")
    return digit.upper()


class _StreamSink:
    """Binary L16 back to the bidirectional module; killAudio flushes its playout buffer."""

    echoes_marks = False

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws

    async def send_audio(self, pcm: bytes, item: PlaybackItem) -> None:
        await self.ws.send_bytes(pcm)

    async def send_clear(self) -> None:
        await self.ws.send_text(json.dumps({"type": "killAudio"}))

    async def send_mark(self, item: PlaybackItem) -> None:  # pragma: no cover - echoes_marks is False
        raise NotImplementedError


class _PlayAudioSink(_StreamSink):
    """``playAudio`` JSON chunks for the upstream module (which cannot stream audio back)."""

    def __init__(self, ws: WebSocket, sample_rate: int) -> None:
        super().__init__(ws)
        self.sample_rate = sample_rate
        self._texted: set[int] = set()

    async def send_audio(self, pcm: bytes, item: PlaybackItem) -> None:
        data: dict[str, Any] = {
            "audioContentType": "raw",
            "sampleRate": self.sample_rate,
            "audioContent": base64.b64encode(pcm).decode("ascii"),
        }
        if item.text and item.id not in self._texted:  # the prompt's text rides on its first chunk
            data["textContent"] = item.text
            self._texted.add(item.id)
        await self.ws.send_text(json.dumps({"type": "playAudio", "data": data}, ensure_ascii=False))


class AudioForkBridge:
    """Serves mod_audio_fork connections with one :class:`CallHandler`."""

    def __init__(self, handler: CallHandler, settings: TelephonySettings | None = None) -> None:
        self.handler = handler
        self.settings = settings or TelephonySettings()
        self.cap = ConnectionCap(self.settings.max_connections, "audiofork")

    async def serve(self, ws: WebSocket) -> None:
        await serve_within(self.cap, ws, self._serve)

    async def _serve(self, ws: WebSocket) -> None:
        offered = ws.scope.get("subprotocols") or []
        await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else (offered[0] if offered else None))
        query = dict(ws.query_params)
        try:
            started, channels, first_audio = await first_message(
                self._start(ws, query), self.settings.first_message_timeout_s, "metadata")
        except ProtocolError as exc:
            log.error("mod_audio_fork start rejected", extra={"context": {"error": str(exc), "query": query}})
            await close_quietly(ws, _CLOSE_PROTOCOL_ERROR, str(exc))
            return
        if started is None:
            return  # gone before saying anything
        playback = query.get("playback", self.settings.audiofork_playback)
        if playback not in ("stream", "playaudio"):
            log.error("bad playback mode", extra={"context": {"playback": playback}})
            await close_quietly(ws, _CLOSE_PROTOCOL_ERROR, f"unsupported playback {playback!r}")
            return
        call = Call(started, transport="audiofork", max_inbound_frames=self.settings.inbound_queue_frames)
        if playback == "stream":
            pump = OutboundPump(call, _StreamSink(ws), frame_ms=self.settings.frame_ms,
                                lead_frames=self.settings.lead_frames)
        else:
            pump = OutboundPump(call, _PlayAudioSink(ws, started.sample_rate),
                                frame_ms=self.settings.playaudio_chunk_ms, lead_frames=1)
        stopped = await run_call(call, self.handler, pump, self._read(ws, call, channels, first_audio),
                                 grace_s=self.settings.handler_grace_s)
        if stopped.reason == "error":
            await close_quietly(ws, _CLOSE_PROTOCOL_ERROR, stopped.detail or "protocol error")
        elif stopped.reason in ("agent", "shutdown"):
            # The module does not hang up by itself; "disconnect" raises mod_audio_fork::disconnect.
            await send_text_quietly(ws, json.dumps({"type": "disconnect"}))
            await close_quietly(ws, 1000, stopped.reason)
        else:
            await close_quietly(ws, 1000, "bye")

    async def _start(self, ws: WebSocket, query: dict[str, str]) -> tuple[CallStarted | None, int, bytes | None]:
        """Read the metadata text frame (or, with empty metadata, the first audio frame)."""
        message = await receive_frame(ws, self.settings.max_frame_bytes)
        if message["type"] == "websocket.disconnect":
            return None, 1, None
        metadata: dict[str, Any] = {}
        first_audio: bytes | None = None
        if message.get("text") is not None:
            try:
                parsed = json.loads(message["text"])
            except json.JSONDecodeError as exc:
                raise ProtocolError(f"metadata is not JSON: {exc.msg} at {exc.pos}") from exc
            if not isinstance(parsed, dict):
                raise ProtocolError(f"metadata must be a JSON object, got {type(parsed).__name__}")
            metadata = parsed
        else:
            first_audio = message.get("bytes") or b""
        rate, channels = call_params(metadata, query, self.settings.audiofork_rate)
        call_id = _first(metadata, _CALL_ID_KEYS) or query.get("call_id") or f"fork-{uuid.uuid4()}"
        caller = _first(metadata, _CALLER_KEYS) or query.get("caller")
        started = CallStarted(call_id=str(call_id), sample_rate=rate,
                              caller=str(caller) if caller is not None else None,
                              metadata={**metadata, "channels": channels})
        return started, channels, first_audio

    async def _read(self, ws: WebSocket, call: Call, channels: int, first_audio: bytes | None) -> None:
        if first_audio is not None and self._audio(call, first_audio, channels):
            return
        while True:
            message = await receive_frame(ws, self.settings.max_frame_bytes)
            if message["type"] == "websocket.disconnect":
                code = message.get("code", 1006)
                call.push_stopped("hangup" if code in (1000, 1001) else "disconnect", f"close code {code}")
                return
            if message.get("bytes") is not None:
                if self._audio(call, message["bytes"], channels):
                    return
                continue
            try:
                text = json.loads(message.get("text") or "")
            except json.JSONDecodeError as exc:
                raise ProtocolError(f"text frame is not JSON: {exc.msg}") from exc
            if isinstance(text, dict) and (digit := parse_dtmf(text)) is not None:
                call.push_dtmf(digit)
            else:
                log.info("mod_audio_fork text frame", extra={"context": {"call_id": call.call_id}})

    def _audio(self, call: Call, data: bytes, channels: int) -> bool:
        """Push one binary frame; True when it was the zero-length end-of-stream frame."""
        if not data:
            call.push_stopped("hangup", "zero-length frame")
            return True
        if len(data) > self.settings.max_frame_bytes:
            raise ProtocolError(f"binary frame of {len(data)} bytes exceeds {self.settings.max_frame_bytes}")
        try:
            check_pcm16(data, channels)
        except PcmError as exc:
            raise ProtocolError(str(exc)) from exc
        call.push_audio(left_channel(data, channels) if channels > 1 else data)
        return False


def audiofork_router(
    handler: CallHandler, settings: TelephonySettings | None = None, path: str = "/audiofork"
) -> APIRouter:
    """A router to mount into any FastAPI app: ``app.include_router(audiofork_router(handler))``."""
    bridge = AudioForkBridge(handler, settings)
    router = APIRouter()

    @router.websocket(path)
    async def audiofork_endpoint(ws: WebSocket) -> None:
        await bridge.serve(ws)

    return router
