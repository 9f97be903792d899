"""Asterisk AudioSocket bridge: a TCP server (``AudioSocket(<uuid>,host:port)`` in the dialplan).

Every message is a type byte, a big-endian uint16 payload length and the payload: ``0x01`` the
call's UUID (16 bytes, always first), ``0x10`` signed linear 16-bit 8 kHz mono little-endian,
``0x03`` one ASCII DTMF digit, ``0x00`` hangup, ``0xff`` error (optional code byte). Agent audio
goes back as ``0x10`` frames of 320 bytes (20 ms) at real-time pace; the protocol has no "flush",
so barge-in simply stops sending, which is why pacing keeps Asterisk's buffer a few frames short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import uuid

from salesagent.transport.call import Call, CallHandler, PlaybackItem
from salesagent.transport.config import TelephonySettings
from salesagent.transport.events import CallStarted
from salesagent.transport.limits import first_message
from salesagent.transport.pacing import OutboundPump
from salesagent.transport.runner import ProtocolError, run_call

log = logging.getLogger(__name__)

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_DTMF = 0x03
KIND_SLIN = 0x10
KIND_ERROR = 0xFF
AUDIOSOCKET_RATE = 8000
_ASTERISK_ERRORS = {0x01: "caller hung up", 0x02: "frame forwarding error", 0x04: "memory error"}


def encode_message(kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > 0xFFFF:
        raise ValueError(f"AudioSocket payload too long: {len(payload)}")
    return struct.pack(">BH", kind, len(payload)) + payload


async def read_message(reader: asyncio.StreamReader) -> tuple[int, bytes] | None:
    """Next (kind, payload), or None on a clean EOF between messages."""
    try:
        header = await reader.readexactly(3)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError(f"connection ended inside a header ({len(exc.partial)} of 3 bytes)") from exc
        return None
    kind, length = struct.unpack(">BH", header)
    try:
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as exc:
        raise ProtocolError(f"connection ended inside a payload ({len(exc.partial)} of {length} bytes)") from exc
    return kind, payload


class _AudioSocketSink:
    echoes_marks = False

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    async def send_audio(self, pcm: bytes, item: PlaybackItem) -> None:
        self.writer.write(encode_message(KIND_SLIN, pcm))
        await self.writer.drain()

    async def send_clear(self) -> None:
        """Nothing to say: unsent audio is already dropped, and Asterisk holds only the lead."""

    async def send_mark(self, item: PlaybackItem) -> None:  # pragma: no cover - echoes_marks is False
        raise NotImplementedError


class AudioSocketServer:
    """``async with AudioSocketServer(handler) as server: ...`` listens on ``server.port``."""

    def __init__(
        self, handler: CallHandler, settings: TelephonySettings | None = None, *,
        host: str | None = None, port: int | None = None,
    ) -> None:
        self.handler = handler
        self.settings = settings or TelephonySettings()
        self.host = host if host is not None else self.settings.host
        self._port = port if port is not None else self.settings.audiosocket_port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connect, self.host, self._port)
        log.info("AudioSocket listening", extra={"context": {"host": self.host, "port": self.port}})

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> AudioSocketServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= self.settings.max_connections:
            log.warning("AudioSocket connection refused: at the cap", extra={"context": {
                "cap": self.settings.max_connections}})
            writer.close()
            return
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            first = await first_message(read_message(reader), self.settings.first_message_timeout_s, "UUID")
            if first is None:
                return
            kind, payload = first
            if kind != KIND_UUID or len(payload) != 16:
                raise ProtocolError(f"first message must be a 16-byte UUID (0x01), got type 0x{kind:02x}"
                                    f" with {len(payload)} bytes")
        except ProtocolError as exc:
            log.error("AudioSocket connection rejected", extra={"context": {"error": str(exc), "peer": str(peer)}})
            await self._send_quietly(writer, encode_message(KIND_ERROR))
            return
        started = CallStarted(call_id=str(uuid.UUID(bytes=payload)), sample_rate=AUDIOSOCKET_RATE,
                              metadata={"peer": str(peer)})
        call = Call(started, transport="audiosocket", max_inbound_frames=self.settings.inbound_queue_frames)
        pump = OutboundPump(call, _AudioSocketSink(writer), frame_ms=self.settings.frame_ms,
                            lead_frames=self.settings.lead_frames)
        stopped = await run_call(call, self.handler, pump, self._read(reader, call),
                                 grace_s=self.settings.handler_grace_s)
        if stopped.reason in ("agent", "shutdown"):
            await self._send_quietly(writer, encode_message(KIND_HANGUP))
        elif stopped.reason == "error":
            await self._send_quietly(writer, encode_message(KIND_ERROR))

    async def _read(self, reader: asyncio.StreamReader, call: Call) -> None:
        while True:
            message = await read_message(reader)
            if message is None:
                call.push_stopped("disconnect", "connection closed without hangup")
                return
            kind, payload = message
            if kind == KIND_SLIN:
                if len(payload) % 2:
                    raise ProtocolError(f"slin payload of odd length {len(payload)}")
                if payload:
                    call.push_audio(payload)
            elif kind == KIND_DTMF:
                if len(payload) != 1:
                    raise ProtocolError(f"DTMF payload must be 1 byte, got {len(payload)}")
                call.push_dtmf(payload.decode("ascii", errors="replace"))
            elif kind == KIND_HANGUP:
                call.push_stopped("hangup")
                return
            elif kind == KIND_ERROR:
                code = payload[0] if payload else 0
                if code == 0x01:
                    call.push_stopped("hangup", _ASTERISK_ERRORS[code])
                else:
                    call.push_stopped("error", _ASTERISK_ERRORS.get(code, f"peer error code 0x{code:02x}"))
                return
            elif kind == KIND_UUID:
                raise ProtocolError("UUID sent twice")
            else:
                raise ProtocolError(f"unknown message type 0x{kind:02x}")

    @staticmethod
    async def _send_quietly(writer: asyncio.StreamWriter, data: bytes) -> None:
        if writer.is_closing():
            return
        try:
            writer.write(data)
            await writer.drain()
        except (ConnectionError, OSError):
            log.debug("AudioSocket peer gone before goodbye", exc_info=True)
