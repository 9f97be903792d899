"""The ASR gateway over a real WebSocket: uvicorn on a free port, `websockets` clients, real model."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest
import uvicorn
from websockets.asyncio.client import connect

from salesagent.services.asr_gateway import create_app
from salesagent.speech.asr.whisper import AsrConfigError
from salesagent.speech.audio import float32_to_pcm16
from salesagent.speech.config import AsrSettings

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gateway(whisper_engine, clinic_prompt):
    """A real uvicorn server in a thread, sharing the session's model."""
    port = _free_port()
    app = create_app(AsrSettings(partial_interval_ms=700), engine=whisper_engine, prompt=clinic_prompt)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    else:
        pytest.fail("gateway did not become ready")
    yield base, f"ws://127.0.0.1:{port}/ws/transcribe"
    server.should_exit = True
    thread.join(10)


async def _talk(
    url: str, audio: np.ndarray, rate: int | None, before: tuple = (), frame_bytes: int = 3200
) -> list[dict]:
    """Send optional config + odd frames, then the audio, then flush; return every server message."""
    messages: list[dict] = []
    async with connect(url) as ws:
        if rate is not None:
            await ws.send(json.dumps({"sample_rate": rate}))
        for frame in before:
            await ws.send(frame)
        pcm = float32_to_pcm16(audio)
        for i in range(0, len(pcm), frame_bytes):
            await ws.send(pcm[i : i + frame_bytes])
            await asyncio.sleep(0.005)
        await ws.send(json.dumps({"type": "flush"}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            messages.append(message)
            if message["type"] == "flushed":
                return messages


def test_health_and_ready(gateway):
    base, _ = gateway
    assert httpx.get(f"{base}/health").json()["status"] == "ok"
    ready = httpx.get(f"{base}/ready").json()
    assert ready["ready"] is True and "whisper-base" in ready["engine"]


async def test_two_clients_at_once_and_a_bad_one(gateway, caller_audio, quiet):
    _, url = gateway
    booking = np.concatenate([quiet(0.3), caller_audio("Я хочу записаться на МРТ коленного сустава."), quiet(1.0)])
    name16 = np.concatenate(
        [quiet(0.3, 16000), caller_audio("Меня зовут Иван Петров.", rate=16000, telephone=False), quiet(1.0, 16000)]
    )
    bad_frames = [b"\x01\x02\x03", "not json", json.dumps({"sample_rate": 44100}), json.dumps([1, 2])]
    recover = [*bad_frames, json.dumps({"sample_rate": 8000})]  # then a valid config and good audio
    results = await asyncio.gather(
        _talk(url, booking, 8000),
        _talk(url, name16, None),  # default 16 kHz, no config frame
        _talk(url, booking, None, before=tuple(recover), frame_bytes=640),
    )
    a_finals, b_finals, c_msgs = (
        [m for m in results[0] if m["type"] == "final"],
        [m for m in results[1] if m["type"] == "final"],
        results[2],
    )
    assert len(a_finals) == 1 and "сустав" in a_finals[0]["text"].lower()
    assert "петров" not in a_finals[0]["text"].lower()
    assert len(b_finals) == 1 and "петров" in b_finals[0]["text"].lower()
    assert 0.2 < a_finals[0]["start"] < a_finals[0]["end"] <= booking.size / 8000
    assert 0 < a_finals[0]["confidence"] <= 1
    assert not any(m["type"] == "error" for m in results[0] + results[1])
    errors = [m["message"] for m in c_msgs if m["type"] == "error"]
    assert len(errors) == 4, errors
    assert "odd byte count 3" in errors[0]
    assert "not a JSON object" in errors[1] and "not a JSON object" in errors[3]
    assert "sample_rate" in errors[2]
    # The bad client is still served once it sends valid frames.
    assert any(m["type"] == "final" and "сустав" in m["text"].lower() for m in c_msgs), c_msgs
    kinds = [m["type"] for m in results[0]]
    assert kinds.index("speech_started") < kinds.index("speech_ended") < kinds.index("final")


async def test_sample_rate_after_audio_is_an_error(gateway, quiet):
    _, url = gateway
    async with connect(url) as ws:
        await ws.send(float32_to_pcm16(quiet(0.1)))
        await ws.send(json.dumps({"sample_rate": 8000}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message == {"type": "error", "message": "sample_rate must be sent before any audio"}


async def test_silence_gives_no_text(gateway, quiet, noise):
    _, url = gateway
    messages = await _talk(url, np.concatenate([quiet(1.0), noise(2.0, level_db=-30), quiet(0.5)]), 8000)
    assert messages == [{"type": "flushed"}]


def test_create_app_fails_fast_on_missing_model(tmp_path):
    with pytest.raises(AsrConfigError, match="does not exist"):
        create_app(AsrSettings(model_path=tmp_path / "missing"))


def test_cli_refuses_bad_settings_with_one_line():
    env = {**os.environ, "SALESAGENT_ASR_DEVICE": "cuda"}
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        env = {**os.environ, "SALESAGENT_ASR_BEAM_SIZE": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "salesagent.cli.speech_asr"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("serve-asr: "), proc.stderr


def test_cli_serves_standalone():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "salesagent.cli.speech_asr", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code
                if status == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert status == 200, proc.stderr.read() if proc.poll() is not None else "not ready in 60 s"
    finally:
        proc.terminate()
        proc.wait(10)


class RecordingEngine:
    """The real engine, keeping the prompt each clip was decoded with."""

    def __init__(self, engine) -> None:
        self.engine, self.name = engine, engine.name
        self.prompts: list[str | None] = []

    def transcribe(self, audio, prompt=None):
        self.prompts.append(prompt)
        return self.engine.transcribe(audio, prompt)


async def test_expect_primes_the_question_and_its_endpoint(whisper_engine, profile, caller_audio, quiet):
    """A client that says which question it asked gets that question's prompt and endpoint; a bad
    ``expect`` is an error frame and the stream goes on as before."""
    from salesagent.speech.asr.prompt import QuestionPrompts

    engine = RecordingEngine(whisper_engine)
    app = create_app(AsrSettings(partials=False), engine=engine, prompt="Клиника.")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        url = f"ws://127.0.0.1:{port}/ws/transcribe"
        for _ in range(600):
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                break
            time.sleep(0.1)
        dictation = np.concatenate([quiet(0.3), caller_audio("восемь девятьсот шестнадцать"), quiet(0.8),
                                    caller_audio("сто двадцать три сорок пять"), quiet(2.5)])
        question = "Назовите, пожалуйста, ваш номер телефона."
        bad = (json.dumps({"type": "expect", "state": "NO_SUCH_STATE"}),
               json.dumps({"type": "expect", "state": "ASK_PHONE", "endpoint_ms": 10}))
        plain = await _talk(url, dictation, 8000, before=bad)
        primed = await _talk(url, dictation, 8000, before=(json.dumps(
            {"type": "expect", "state": "ASK_PHONE", "question": question, "endpoint_ms": 1500}),))
    finally:
        server.should_exit = True
        thread.join(10)
    errors = [m["message"] for m in plain if m["type"] == "error"]
    assert len(errors) == 2 and "dialog state" in errors[0] and "endpoint_ms" in errors[1], errors
    assert sum(m["type"] == "final" for m in plain) == 2  # the default endpoint splits the groups
    assert sum(m["type"] == "final" for m in primed) == 1, primed  # the phone's endpoint keeps them one
    expected = QuestionPrompts(profile).for_question("ASK_PHONE", question)
    assert expected != "Клиника." and engine.prompts[-1] == expected
    assert set(engine.prompts[:2]) == {"Клиника."}
