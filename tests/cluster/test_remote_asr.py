"""The remote ASR engine against a real ASR gateway process (``salesagent serve-asr``, Whisper base).

Why a process: the point of the remote engine is that agent workers share ONE ASR server, so the
test crosses a real socket to a real server, including its start (retries while it loads), its
token check, its refusal of bad clips, and threads sharing one engine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest

from salesagent.speech.asr.base import AsrEngine, Transcript
from salesagent.speech.asr.remote import RemoteAsrEngine, RemoteAsrError, build_engine
from salesagent.speech.audio import resample
from salesagent.speech.config import AsrSettings

TOKEN = "remote-asr-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gateway_port():
    """A real gateway process with a token; killed (by its own pid) after the module."""
    port = _free_port()
    env = {**os.environ, "SALESAGENT_API_TOKEN": TOKEN, "SALESAGENT_ASR_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "salesagent.cli.speech_asr", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(15)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("ASR gateway not ready in 90 s")


def test_retries_until_the_gateway_is_up_then_decodes_with_a_prompt(gateway_port, caller_audio):
    """The first clip is sent while the model still loads: backoff carries it to a transcript."""
    port, _ = gateway_port
    engine = RemoteAsrEngine(f"ws://127.0.0.1:{port}", TOKEN, attempts=30)
    assert isinstance(engine, AsrEngine)
    audio = resample(caller_audio("Хочу записаться на МРТ коленного сустава"), 8000, 16000)
    result = engine.transcribe(audio, prompt="МРТ, КТ, УЗИ, коленный сустав")
    assert isinstance(result, Transcript)
    assert "мрт" in result.text.lower(), result.text
    assert result.audio_s == pytest.approx(len(audio) / 16000, abs=0.05)


def test_threads_share_one_engine(gateway_port, caller_audio, quiet):
    port, _ = gateway_port
    _wait_ready(port)
    engine = RemoteAsrEngine(f"ws://127.0.0.1:{port}", TOKEN)
    clips = [resample(caller_audio("Да, завтра утром"), 8000, 16000), np.zeros(16000, np.float32)] * 2
    results: list[Transcript | Exception] = [None] * len(clips)  # type: ignore[list-item]

    def run(i: int) -> None:
        try:
            results[i] = engine.transcribe(clips[i], None)
        except Exception as exc:  # reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clips))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(isinstance(r, Transcript) for r in results), results
    assert "завтра" in results[0].text.lower() and results[1].text.strip() == ""


def test_wrong_token_and_bad_clip_fail_with_one_clear_line(gateway_port):
    port, _ = gateway_port
    _wait_ready(port)
    with pytest.raises(RemoteAsrError, match="refused the token"):
        RemoteAsrEngine(f"ws://127.0.0.1:{port}", "wrong").transcribe(np.zeros(1600, np.float32))
    with pytest.raises(RemoteAsrError, match="longer than 30"):
        RemoteAsrEngine(f"ws://127.0.0.1:{port}", TOKEN).transcribe(np.zeros(16000 * 31, np.float32))


def test_unreachable_gateway_and_missing_url():
    engine = RemoteAsrEngine(f"ws://127.0.0.1:{_free_port()}", attempts=2, timeout_s=1)
    with pytest.raises(RemoteAsrError, match="unreachable after retries"):
        engine.transcribe(np.zeros(1600, np.float32))
    with pytest.raises(ValueError, match="REMOTE_URL"):
        build_engine(AsrSettings(engine="remote", remote_url=""))
    assert isinstance(build_engine(AsrSettings(engine="remote", remote_url="ws://h:1")), RemoteAsrEngine)
