"""The TTS gateway over a real socket: uvicorn serving the app, httpx streaming the response."""

from __future__ import annotations

import socket
import struct
import threading
import time

import httpx
import pytest
import uvicorn

from salesagent.services.tts_gateway import create_app
from salesagent.speech.tts import build_synthesizer
from salesagent.speech.tts.audio import rms_dbfs
from salesagent.speech.tts_config import TtsSettings


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    settings = TtsSettings(engine="festival", festival_pool=1, cache_dir=tmp_path_factory.mktemp("tts-cache"),
                           max_text_chars=2000)
    synth = build_synthesizer(settings)
    app = create_app(settings, synthesizer=synth)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "gateway did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", synth
    server.should_exit = True
    thread.join(timeout=10)
    synth.close()


def test_health_and_ready(gateway) -> None:
    url, _ = gateway
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{url}/ready", timeout=30)
    assert ready.status_code == 200 and ready.json()["engine"] == "festival"


def test_synthesize_streams_wav_in_200ms_chunks(gateway) -> None:
    url, _ = gateway
    text = "Здравствуйте! Записываю вас на МРТ коленного сустава на 28 ноября в 10:30. Верно?"
    pieces: list[bytes] = []
    with httpx.stream("POST", f"{url}/synthesize", json={"text": text, "sample_rate": 8000}, timeout=60) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "audio/wav" and resp.headers["x-sample-rate"] == "8000"
        pieces = list(resp.iter_raw())
    body = b"".join(pieces)
    assert body[:4] == b"RIFF" and body[8:16] == b"WAVEfmt "
    channels, rate, _, _, bits = struct.unpack("<HIIHH", body[22:36])
    assert (channels, rate, bits) == (1, 8000, 16)
    assert body[36:40] == b"data" and struct.unpack("<I", body[40:44])[0] == 0xFFFFFFFF
    pcm = body[44:]
    assert len(pcm) / 2 / 8000 > 3.0 and rms_dbfs(pcm) > -35
    assert len(pieces) > 1, "the response was not streamed"


def test_pcm_format_is_raw_and_matches_wav_body(gateway) -> None:
    url, _ = gateway
    req = {"text": "Поняла, до свидания.", "sample_rate": 16000}
    wav = httpx.post(f"{url}/synthesize", json=req, timeout=60)
    pcm = httpx.post(f"{url}/synthesize", json={**req, "format": "pcm"}, timeout=60)
    assert pcm.status_code == 200 and pcm.headers["content-type"] == "application/octet-stream"
    assert pcm.content == wav.content[44:] and len(pcm.content) % 2 == 0


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"text": ""}, 422, "non-empty"),
        ({"text": "   "}, 422, "non-empty"),
        ({"text": "!!! ..."}, 422, "nothing to say"),
        ({"text": "Да", "voice": "irina"}, 404, "no voice 'irina'"),
        ({"text": "Да", "sample_rate": 44100}, 422, "8000, 16000, 22050"),
        ({"text": "Да", "sample_rate": "8000"}, 422, "sample_rate"),
        ({"text": "Да", "format": "mp3"}, 422, "format"),
        ({"text": "Да", "speed": 2}, 422, "unknown field"),
        ({"voice": "msu_ru_nsh"}, 422, "text"),
        ({"text": "а" * 2001}, 413, "limit is 2000"),
        ({"text": "а" * 50_000}, 413, "too large"),
    ],
)
def test_bad_requests_get_4xx_with_a_message(gateway, body, status, message) -> None:
    url, _ = gateway
    resp = httpx.post(f"{url}/synthesize", json=body, timeout=30)
    assert resp.status_code == status
    assert message in resp.json()["detail"]


def test_non_json_body_is_400(gateway) -> None:
    url, _ = gateway
    resp = httpx.post(f"{url}/synthesize", content=b"text=hello", timeout=30)
    assert resp.status_code == 400 and "JSON" in resp.json()["detail"]


def test_repeated_request_is_served_from_cache(gateway) -> None:
    url, synth = gateway
    req = {"text": "Вернёмся к записи.", "sample_rate": 22050, "format": "pcm"}
    first = httpx.post(f"{url}/synthesize", json=req, timeout=60).content
    calls = synth.stats.engine_calls
    second = httpx.post(f"{url}/synthesize", json=req, timeout=60).content
    assert second == first and synth.stats.engine_calls == calls
