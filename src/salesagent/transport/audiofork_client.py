"""The FreeSWITCH side of mod_audio_fork, in Python: a simulated caller.

Connects with the ``audio.drachtio.org`` subprotocol, sends the metadata text frame, streams L16
frames at real-time pace (stereo puts the caller on the left channel, as the module does) and
collects what the agent sends back: binary L16 audio, ``playAudio`` chunks, ``killAudio`` and
``disconnect``. Used by ``salesagent demo``, the load benchmark and the tests.

CLI: ``python -m salesagent.transport.audiofork_client ws://127.0.0.1:8090/audiofork \
--wav caller.wav --out agent.wav``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from salesagent.security import client_headers
from salesagent.speech.audio import resample_pcm16
from salesagent.transport.audiofork import SUBPROTOCOL
from salesagent.transport.pcm import check_pcm16


@dataclass
class Received:
    """One thing the agent sent, stamped with ``time.monotonic()`` at arrival."""

    t: float
    kind: str  # "audio" (binary L16), "playAudio", "killAudio", "disconnect", other JSON type
    pcm: bytes = b""
    message: dict[str, Any] = field(default_factory=dict)


class AudioForkClient:
    """``async with AudioForkClient(url, metadata={...}) as fork: await fork.stream(pcm)``."""

    def __init__(
        self,
        url: str,
        *,
        metadata: dict[str, Any] | str | None = None,
        sample_rate: int = 8000,
        channels: int = 1,
        frame_ms: int = 20,
    ) -> None:
        self.url = url
        self.metadata = metadata
        self.sample_rate = sample_rate
        self.channels = channels
        self.frame_bytes = sample_rate * frame_ms // 1000 * 2
        self.frame_s = frame_ms / 1000
        self.received: list[Received] = []
        self._new = asyncio.Event()
        self.ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None

    async def __aenter__(self) -> AudioForkClient:
        self.ws = await connect(self.url, subprotocols=[SUBPROTOCOL], max_size=2**22,  # type: ignore[list-item]
                                additional_headers=client_headers())
        if self.metadata is not None and self.metadata != "":
            text = self.metadata if isinstance(self.metadata, str) else json.dumps(self.metadata, ensure_ascii=False)
            await self.ws.send(text)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 5)

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                now = time.monotonic()
                if isinstance(message, bytes):
                    self.received.append(Received(now, "audio", pcm=message))
                else:
                    data = json.loads(message)
                    kind = str(data.get("type"))
                    pcm = b""
                    if kind == "playAudio":
                        pcm = base64.b64decode(data["data"]["audioContent"])
                    self.received.append(Received(now, kind, pcm=pcm, message=data))
                self._new.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason
            self._new.set()

    # --- sending ---------------------------------------------------------------------------------
    def _wire(self, pcm: bytes) -> bytes:
        if self.channels == 1:
            return pcm
        mono = np.frombuffer(pcm, dtype="<i2")
        stereo = np.zeros(mono.size * self.channels, dtype="<i2")
        stereo[:: self.channels] = mono  # caller on the left, silence for the agent leg
        return stereo.tobytes()

    async def send_raw(self, data: bytes | str) -> None:
        """Any frame as-is (tests use it for malformed input)."""
        assert self.ws is not None
        await self.ws.send(data)

    async def stream(self, pcm: bytes, *, realtime: bool = True) -> None:
        """Send mono PCM16 at ``sample_rate`` as 20 ms frames, paced on an absolute clock."""
        check_pcm16(pcm)
        assert self.ws is not None
        start = time.monotonic()
        for i, offset in enumerate(range(0, len(pcm), self.frame_bytes)):
            if realtime:
                delay = start + i * self.frame_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self.ws.send(self._wire(pcm[offset : offset + self.frame_bytes]))

    async def silence(self, seconds: float, *, realtime: bool = True) -> None:
        await self.stream(b"\x00\x00" * int(seconds * self.sample_rate), realtime=realtime)

    async def dtmf(self, digit: str) -> None:
        """What a dialplan sends with ``uuid_audio_fork <uuid> send_text {"type":"dtmf",...}``."""
        await self.send_raw(json.dumps({"type": "dtmf", "digit": digit}))

    async def stop(self, timeout: float = 5.0) -> None:
        """Graceful end: the zero-length frame, then wait for the server to close."""
        await self.send_raw(b"")
        await self.wait_closed(timeout)

    async def abort(self) -> None:
        """Drop the TCP connection without a close frame (a crashed media server)."""
        assert self.ws is not None
        self.ws.transport.abort()
        await self.wait_closed(5)

    # --- receiving -------------------------------------------------------------------------------
    async def wait_closed(self, timeout: float = 5.0) -> None:
        assert self._reader is not None
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)

    async def wait_for(self, kind: str, timeout: float = 5.0, count: int = 1) -> Received:
        """The ``count``-th received item of ``kind`` (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            matches = [r for r in self.received if r.kind == kind]
            if len(matches) >= count:
                return matches[count - 1]
            if self._reader is not None and self._reader.done():
                raise ConnectionError(f"closed ({self.close_code}) before {kind!r} #{count} arrived")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind!r} #{count} within {timeout} s")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), remaining)

    def agent_audio(self) -> bytes:
        """Everything the agent sent as audio, in arrival order (binary frames and playAudio)."""
        return b"".join(r.pcm for r in self.received if r.kind in ("audio", "playAudio"))


def read_wav(path: Path, sample_rate: int) -> bytes:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: 16-bit PCM WAV required")
        frames = wav.readframes(wav.getnframes())
        if wav.getnchannels() > 1:
            frames = np.frombuffer(frames, dtype="<i2")[:: wav.getnchannels()].tobytes()
        return resample_pcm16(frames, wav.getframerate(), sample_rate)


def write_wav(path: Path, pcm: bytes, sample_rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)


async def _run(args: argparse.Namespace) -> int:
    metadata = json.loads(args.metadata)
    metadata.setdefault("sample_rate", args.rate)
    metadata.setdefault("channels", args.channels)
    pcm = read_wav(Path(args.wav), args.rate) if args.wav else b""
    async with AudioForkClient(args.url, metadata=metadata, sample_rate=args.rate,
                               channels=args.channels) as fork:
        await fork.stream(pcm)
        await fork.silence(args.tail)
        await fork.stop()
    if args.out:
        write_wav(Path(args.out), fork.agent_audio(), args.rate)
    kinds = [r.kind for r in fork.received]
    print(json.dumps({"agent_audio_s": round(len(fork.agent_audio()) / 2 / args.rate, 2),
                      "kill_audio": kinds.count("killAudio"), "close_code": fork.close_code}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulated FreeSWITCH mod_audio_fork caller")
    parser.add_argument("url", help="ws://host:port/audiofork")
    parser.add_argument("--wav", help="caller audio (16-bit WAV, any rate)")
    parser.add_argument("--out", help="write the agent's audio here (WAV)")
    parser.add_argument("--rate", type=int, choices=(8000, 16000), default=8000)
    parser.add_argument("--channels", type=int, choices=(1, 2), default=1)
    parser.add_argument("--tail", type=float, default=3.0, help="seconds of silence after the WAV")
    parser.add_argument("--metadata", default='{"uuid": "demo-call", "caller": "+70000000000"}')
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except (OSError, ValueError, ConnectionError, TimeoutError) as exc:
        print(f"audiofork_client: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
