"""Issue 12, finding 5: body limits hold while the body streams in.

``/dialog`` checked only ``Content-Length``: a chunked 100 MB upload was read whole (the service
grew by ~300 MB) and answered 422. The TTS gateway read the whole body before looking at its size.
Now both answer 413 once the limit is passed, having read little more than the limit.
"""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path

import pytest

from support.live_server import ThreadedServer

TOTAL = 100 * 1024 * 1024
CHUNK = b"x" * 65536


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def chunked_upload(port: int, path: str, total: int = TOTAL) -> tuple[int, int]:
    """POST a chunked JSON-ish body of up to ``total`` bytes; (status, bytes sent before the answer).

    Stops sending as soon as the server answers (or closes), as a real client would.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n".encode())
    sent, head = 0, b""
    frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
    try:
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(frame)
            sent += len(CHUNK)
        else:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed mid-upload: read what it said
    deadline = time.monotonic() + 60
    while b"\r\n" not in head and time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            break
        head += data
    sock.close()
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1") else 0
    return status, sent


def test_chunked_dialog_upload_stops_at_the_limit(dialog_server) -> None:
    before = rss_mb()
    status, sent = chunked_upload(dialog_server.port, "/dialog")
    grew = rss_mb() - before
    assert status == 413
    assert sent < 32 * 1024 * 1024, f"the server kept reading: {sent} bytes sent before its answer"
    assert grew < 40, f"memory grew by {grew:.0f} MB"


def test_ordinary_dialog_requests_still_work(dialog_server) -> None:
    import httpx

    ok = httpx.post(f"{dialog_server.url}/dialog", json={"session_id": "lim-1", "text": ""})
    assert ok.status_code == 200
    chunked = httpx.post(f"{dialog_server.url}/dialog", content=iter([b'{"session_id": "lim-1", ', '"text": "да"}'.encode()]),
                         headers={"content-type": "application/json"})
    assert chunked.status_code == 200, chunked.text  # a small chunked body is fine
    declared = httpx.post(f"{dialog_server.url}/dialog", content=b"x" * 70000)
    assert declared.status_code == 413 and "65536" in declared.json()["detail"]


@pytest.fixture(scope="module")
def tts_server(tmp_path_factory):
    from salesagent.services.tts_gateway import create_app
    from salesagent.speech.tts import build_synthesizer
    from salesagent.speech.tts_config import TtsSettings

    settings = TtsSettings(engine="festival", festival_pool=1, cache_dir=tmp_path_factory.mktemp("tts-cache"),
                           max_text_chars=2000)
    synth = build_synthesizer(settings)
    server = ThreadedServer(create_app(settings, synthesizer=synth))
    yield server
    server.stop()
    synth.close()


def test_chunked_tts_upload_is_refused_before_it_is_read_whole(tts_server) -> None:
    before = rss_mb()
    status, sent = chunked_upload(tts_server.port, "/synthesize")
    grew = rss_mb() - before
    assert status == 413
    assert sent < 32 * 1024 * 1024, f"the gateway kept reading: {sent} bytes sent before its answer"
    assert grew < 40, f"memory grew by {grew:.0f} MB"
