"""The WebSocket half of a SIP call: speaks ``mod_audio_fork`` to the agent as FreeSWITCH would.

Per answered call: connect with subprotocol ``audio.drachtio.org``, send the metadata JSON as the
first text frame, then the caller's audio as binary L16 8 kHz mono frames of 20 ms, and on hangup
one zero-length binary frame before closing. From the agent: binary L16 is played into the call,
``{"type":"killAudio"}`` flushes what is queued (barge-in), ``{"type":"playAudio",...}`` plays its
base64 audio, ``{"type":"disconnect"}`` or a closed socket hangs the call up.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import json
import logging
import wave
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from salesagent.security import client_headers
from salesagent.speech.audio import resample_pcm16
from salesagent.transport.sip.link import SAMPLE_RATE, SipCallLink

log = logging.getLogger(__name__)

# Same value as salesagent.transport.audiofork.SUBPROTOCOL; kept literal so the edge process does not
# import the server side (FastAPI) just for a constant.
SUBPROTOCOL = "audio.drachtio.org"


class AudioForkUnavailableError(ConnectionError):
    """The agent's WebSocket could not be opened; the SIP call is rejected with 503."""


def decode_play_audio(data: dict[str, Any]) -> bytes:
    """``playAudio`` ``data`` -> L16 mono 8 kHz. Accepts ``raw`` (with ``sampleRate``) and ``wave``."""
    content = data.get("audioContent")
    if not isinstance(content, str):
        raise ValueError("playAudio without a base64 audioContent string")
    try:
        audio = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"playAudio audioContent is not base64: {exc}") from exc
    kind = str(data.get("audioContentType", "raw")).lower()
    if kind in ("wave", "wav"):
        try:
            with wave.open(io.BytesIO(audio), "rb") as wav:
                if wav.getsampwidth() != 2:
                    raise ValueError(f"playAudio WAV must be 16-bit, got {8 * wav.getsampwidth()}-bit")
                rate, channels = wav.getframerate(), wav.getnchannels()
                audio = wav.readframes(wav.getnframes())
        except wave.Error as exc:
            raise ValueError(f"playAudio WAV unreadable: {exc}") from exc
        if channels != 1:
            import numpy as np

            audio = np.frombuffer(audio, dtype="<i2")[::channels].tobytes()
    elif kind == "raw":
        rate = int(data.get("sampleRate") or SAMPLE_RATE)
    else:
        raise ValueError(f"playAudio audioContentType {kind!r} is not supported (raw or wave)")
    if len(audio) % 2:
        raise ValueError(f"playAudio raw L16 needs an even number of bytes, got {len(audio)}")
    return resample_pcm16(audio, rate, SAMPLE_RATE)  # a bad rate is soxr's ValueError


class AudioForkLeg:
    """One call's WebSocket to the agent. :meth:`connect` first, then :meth:`run` until either side ends."""

    def __init__(self, link: SipCallLink, url: str, *, connect_timeout_s: float = 5.0) -> None:
        self.link = link
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self.ws: ClientConnection | None = None
        self.frames_sent = 0
        self.frames_received = 0
        self.agent_hangup = False

    @property
    def _ctx(self) -> dict[str, Any]:
        return {"call_id": self.link.call_id, "caller_id": self.link.caller}

    async def connect(self) -> None:
        try:
            self.ws = await asyncio.wait_for(
                connect(self.url, subprotocols=[Subprotocol(SUBPROTOCOL)], compression=None,
                        additional_headers=client_headers(),
                        max_size=4 * 1024 * 1024, open_timeout=None),
                self.connect_timeout_s,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise AudioForkUnavailableError(f"cannot open {self.url}: {exc!r}") from exc
        if self.ws.subprotocol != SUBPROTOCOL:
            log.warning("agent did not confirm the audio.drachtio.org subprotocol",
                        extra={"context": {**self._ctx, "subprotocol": self.ws.subprotocol}})
        await self.ws.send(json.dumps(self.link.metadata(), ensure_ascii=False))

    async def run(self) -> str:
        """Pump both directions; returns ``"caller"`` or ``"agent"``: who ended the call."""
        assert self.ws is not None, "connect() first"
        uplink = asyncio.create_task(self._uplink(), name=f"sip-up-{self.link.key}")
        downlink = asyncio.create_task(self._downlink(), name=f"sip-down-{self.link.key}")
        try:
            done, _ = await asyncio.wait({uplink, downlink}, return_when=asyncio.FIRST_COMPLETED)
            ended_by = "caller" if uplink in done else "agent"
            if ended_by == "agent":
                self.agent_hangup = True
            for task in done:
                if (exc := task.exception()) is not None:
                    log.warning("audio fork leg failed", extra={"context": {**self._ctx, "error": repr(exc)}})
            return ended_by
        finally:
            for task in (uplink, downlink):
                task.cancel()
            for task in (uplink, downlink):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.close()

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(1000, "bye"), 2.0)

    async def _uplink(self) -> None:
        """Caller audio to the agent; a zero-length frame when the SIP call ends."""
        assert self.ws is not None
        while True:
            pcm = await self.link.inbound.get()
            if pcm is None:
                with contextlib.suppress(ConnectionClosed):
                    await self.ws.send(b"")
                return
            try:
                await self.ws.send(pcm)
            except ConnectionClosed:
                # The agent went away; the downlink notices the close and ends the call.
                await asyncio.Event().wait()
            self.frames_sent += 1

    async def _downlink(self) -> None:
        """Agent audio and commands into the call; returns when the agent is done with it."""
        assert self.ws is not None
        playout = self.link.playout
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    if len(message) % 2:
                        log.warning("odd-length L16 frame from the agent dropped",
                                    extra={"context": {**self._ctx, "bytes": len(message)}})
                        continue
                    self.frames_received += 1
                    playout.push(message)
                    continue
                if self._command(message):
                    return
        except ConnectionClosed:
            pass

    def _command(self, text: str) -> bool:
        """Handle one text frame; True when the agent asked to hang up."""
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            log.warning("non-JSON text frame from the agent ignored", extra={"context": self._ctx})
            return False
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "killAudio":
            dropped = self.link.playout.clear()
            log.info("killAudio: playout flushed", extra={"context": {**self._ctx, "dropped_ms": dropped // 16}})
        elif kind == "playAudio":
            try:
                pcm = decode_play_audio(message.get("data") or {})
            except ValueError as exc:
                log.warning("bad playAudio ignored", extra={"context": {**self._ctx, "error": str(exc)}})
                return False
            self.link.playout.push(pcm)
        elif kind == "disconnect":
            log.info("agent asked to hang up", extra={"context": self._ctx})
            return True
        else:
            log.debug("agent text frame ignored", extra={"context": {**self._ctx, "type": kind}})
        return False
