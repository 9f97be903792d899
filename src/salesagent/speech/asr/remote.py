"""An :class:`AsrEngine` that decodes on the ASR gateway (``WS /ws/decode``), not in this process.

Why: Whisper is the one heavy thing in a worker. With ``SALESAGENT_ASR_ENGINE=remote`` every agent
worker sends its cut clips, with the prompt of the question it just asked, to one ASR server (a GPU
host in production), so workers stay small and scale with CPU cores.

Thread-safe by construction: each ``transcribe`` opens its own connection (on loopback or a LAN a
WebSocket handshake costs ~1 ms next to a ~300 ms decode), so the scheduler's N threads never share
a socket. Connection failures and a gateway still loading (1013) are retried with exponential
backoff (tenacity); a refused clip (an ``error`` frame) is not retried: it would fail again.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import connect

from salesagent.speech.asr.base import Segment, Transcript
from salesagent.speech.audio import as_float32, float32_to_pcm16

CHUNK_BYTES = 32000
"""1 s of 16 kHz PCM16 per frame: well under the gateway's 64 000-byte frame limit."""


class RemoteAsrError(RuntimeError):
    """The gateway refused the clip or could not be reached after every retry (one clear line)."""


class _Transient(Exception):
    """Worth another try: the gateway is down, restarting or still loading its model."""


def transcript_to_message(t: Transcript) -> dict[str, Any]:
    """The gateway's ``transcript`` frame (services/asr_decode.py sends it)."""
    return {
        "type": "transcript",
        "text": t.text,
        "segments": [asdict(s) for s in t.segments],
        "confidence": t.confidence,
        "audio_s": t.audio_s,
        "decode_s": t.decode_s,
        "dropped": list(t.dropped),
    }


def message_to_transcript(m: dict[str, Any]) -> Transcript:
    return Transcript(
        text=str(m["text"]),
        segments=tuple(Segment(**s) for s in m.get("segments", [])),
        confidence=float(m["confidence"]),
        audio_s=float(m["audio_s"]),
        decode_s=float(m["decode_s"]),
        dropped=tuple(m.get("dropped", ())),
    )


def decode_url(base: str, token: str | None) -> str:
    """``ws://host:port[/prefix]`` -> its ``/ws/decode`` URL (``?token=`` when a token is set)."""
    parts = urlsplit(base.rstrip("/"))
    if parts.scheme not in ("ws", "wss", "http", "https"):
        raise RemoteAsrError(f"ASR remote_url must be ws:// or wss://, got {base!r}")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path.endswith("/ws/decode") else parts.path + "/ws/decode"
    return urlunsplit((scheme, parts.netloc, path, urlencode({"token": token}) if token else "", ""))


class RemoteAsrEngine:
    """Whole-clip decodes on a remote ASR gateway; satisfies :class:`AsrEngine`."""

    def __init__(self, url: str, token: str | None = None, *, timeout_s: float = 30.0, attempts: int = 4) -> None:
        self.url = decode_url(url, token)
        self.name = f"remote:{urlsplit(url).netloc}"
        self.timeout_s = timeout_s
        self._transcribe = retry(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.2, max=3.0),
            reraise=True,
        )(self._once)

    def transcribe(self, audio: np.ndarray, prompt: str | None = None) -> Transcript:
        try:
            return self._transcribe(audio, prompt)
        except _Transient as exc:
            raise RemoteAsrError(f"ASR gateway {self.name} unreachable after retries: {exc}") from exc

    def _once(self, audio: np.ndarray, prompt: str | None) -> Transcript:
        pcm = float32_to_pcm16(as_float32(audio))
        try:
            with connect(self.url, open_timeout=self.timeout_s, close_timeout=1, max_size=2**22) as ws:
                ws.send(json.dumps({"type": "decode", "sample_rate": 16000, "prompt": prompt}, ensure_ascii=False))
                for i in range(0, len(pcm), CHUNK_BYTES):
                    ws.send(pcm[i : i + CHUNK_BYTES])
                ws.send(json.dumps({"type": "end"}))
                reply = json.loads(ws.recv(timeout=self.timeout_s))
        except InvalidStatus as exc:
            if exc.response.status_code in (401, 403):
                raise RemoteAsrError(f"ASR gateway {self.name} refused the token ({exc.response.status_code})") from exc
            raise _Transient(str(exc)) from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        if reply.get("type") == "transcript":
            return message_to_transcript(reply)
        message = str(reply.get("message", reply))
        if "loading" in message:
            raise _Transient(message)
        raise RemoteAsrError(f"ASR gateway {self.name}: {message}")


def build_engine(settings: Any) -> Any:
    """The engine ``settings.engine`` names (an AsrSettings): remote here, faster-whisper loaded locally.

    Fails fast with one line when ``remote`` has no URL, rather than at the first caller's answer.
    """
    if settings.engine == "remote":
        if not settings.remote_url:
            raise ValueError("SALESAGENT_ASR_ENGINE=remote needs SALESAGENT_ASR_REMOTE_URL (ws://host:port)")
        return RemoteAsrEngine(settings.remote_url, settings.remote_token, timeout_s=settings.remote_timeout_s)
    from salesagent.speech.asr.whisper import FasterWhisperEngine

    return FasterWhisperEngine(settings)
