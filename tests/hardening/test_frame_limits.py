"""Issue 12, finding 4: one huge WebSocket frame must not stall every live call.

Only /audiofork refused frames over 64 kB (binary ones). A 16 MB Twilio media event was parsed,
base64-decoded and pushed as audio (the loop froze for seconds and the recording grew by tens of
MB); a 16 MB frame to the ASR gateway went through VAD in the loop. Each endpoint now drops a
frame over the limit unread and ends that connection, while a concurrent client stays served.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from salesagent.transport.call import Call
from salesagent.transport.config import TelephonySettings
from salesagent.transport.events import AudioIn
from salesagent.transport.server import create_app as telephony_app
from support.live_server import ThreadedServer

FIXTURE = Path(__file__).resolve().parents[1] / "transport" / "fixtures" / "twilio_call.jsonl"
HUGE = 15 * 1000 * 1000  # under uvicorn's own 16 MiB ws_max_size, as an attacker would aim


class CountingHandler:
    """A call handler that keeps how much caller audio it was given (what a recorder would store)."""

    def __init__(self) -> None:
        self.audio_bytes = 0
        self.calls = 0

    async def handle(self, call: Call) -> None:
        self.calls += 1
        async for event in call:
            if isinstance(event, AudioIn):
                self.audio_bytes += len(event.pcm)


class StallProbe:
    """Polls a health URL from another thread; ``worst`` is the longest answer seen (loop stall)."""

    def __init__(self, url: str) -> None:
        self.url, self.worst, self._stop = url, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                client.get(self.url).raise_for_status()
                self.worst = max(self.worst, time.perf_counter() - t0)
                time.sleep(0.01)

    def __enter__(self) -> StallProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


async def _closed(ws) -> tuple[int | None, str]:
    """Wait for the server to end the connection; its close code and reason."""
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(30):
            while True:
                await ws.recv()
    frame = info.value.rcvd
    return (frame.code, frame.reason) if frame else (None, "")


@pytest.fixture
def telephony():
    handler = CountingHandler()
    server = ThreadedServer(telephony_app(handler, TelephonySettings(enable_audiosocket=False)))
    yield server, handler
    server.stop()


async def test_huge_twilio_media_frame_is_refused_unread(telephony) -> None:
    server, handler = telephony
    lines = FIXTURE.read_text().splitlines()
    huge = json.loads(lines[2])
    huge["media"]["payload"] = base64.b64encode(b"\xff" * (HUGE * 3 // 4)).decode()
    with StallProbe(f"{server.url}/healthz") as probe:
        async with connect(f"{server.ws_url}/twilio/media", max_size=None, ping_interval=None) as ws:
            await ws.send(lines[0])
            await ws.send(lines[1])
            await ws.send(lines[2])  # one ordinary 20 ms frame
            t0 = time.perf_counter()
            await ws.send(json.dumps(huge))
            code, reason = await _closed(ws)
            took = time.perf_counter() - t0
    assert (code, "exceeds 64000" in reason) == (1007, True), (code, reason)
    assert took < 5
    assert handler.audio_bytes <= 64000  # the huge payload never reached the call
    assert probe.worst < 1.0, f"event loop stalled {probe.worst:.2f}s"


async def test_huge_twilio_start_and_audiofork_text_frames_are_refused(telephony) -> None:
    server, handler = telephony
    for path in ("/twilio/media", "/audiofork"):
        async with connect(f"{server.ws_url}{path}", max_size=None, ping_interval=None) as ws:
            await ws.send(json.dumps({"event": "start", "pad": "x" * HUGE}))
            code, reason = await _closed(ws)
        assert code == 1007 and "exceeds 64000" in reason, (path, code, reason)
    assert handler.calls == 0


@pytest.fixture(scope="module")
def asr_server():
    from salesagent.services.asr_gateway import create_app
    from salesagent.speech.asr.whisper import FasterWhisperEngine
    from salesagent.speech.config import AsrSettings

    engine = FasterWhisperEngine(AsrSettings(device="cpu", workers=1))
    server = ThreadedServer(create_app(AsrSettings(device="cpu", workers=1), engine=engine, prompt=""))
    deadline = time.monotonic() + 60
    while httpx.get(f"{server.url}/ready").status_code != 200:
        assert time.monotonic() < deadline, "ASR gateway not ready"
        time.sleep(0.1)
    yield server
    server.stop()


async def test_huge_asr_frame_closes_that_stream_only(asr_server) -> None:
    url = f"{asr_server.ws_url}/ws/transcribe"
    with StallProbe(f"{asr_server.url}/health") as probe:
        async with connect(url, ping_interval=None) as calm, connect(url, max_size=None, ping_interval=None) as ws:
            await calm.send(json.dumps({"sample_rate": 16000}))
            await ws.send(json.dumps({"sample_rate": 16000}))
            await ws.send(b"\x00\x01" * (HUGE // 2))
            error = json.loads(await asyncio.wait_for(ws.recv(), 30))
            code, _ = await _closed(ws)
            await calm.send(b"\x00\x00" * 1600)  # the other stream is still served
            await calm.send(json.dumps({"type": "flush"}))
            assert json.loads(await asyncio.wait_for(calm.recv(), 30)) == {"type": "flushed"}
    assert error["type"] == "error" and "exceeds 64000" in error["message"]
    assert code == 1009
    assert probe.worst < 1.0, f"event loop stalled {probe.worst:.2f}s"
