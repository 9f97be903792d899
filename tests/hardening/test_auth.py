"""Issue 12, finding 6: nothing answers without the shared token once one is configured.

Before: ``GET /session/{id}`` gave anyone the caller's phone, name and transcript, ``/dialog``
booked slots for anyone, and a WebSocket to ``/audiofork`` was taken as a call; the README told
operators to bind 0.0.0.0. Now, with ``SALESAGENT_API_TOKEN`` set, every route but the health
probes wants it (header or ``?token=``), and without a token a server refuses a public bind.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from salesagent.config import get_settings
from salesagent.logs import JsonFormatter
from salesagent.security import InsecureBindError, check_bind
from salesagent.transport.config import TelephonySettings
from salesagent.transport.echo import EchoHandler
from salesagent.transport.server import create_app as telephony_app
from support.live_server import Captured, ThreadedServer

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SALESAGENT_API_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield TOKEN
    get_settings.cache_clear()


def test_the_dialog_api_wants_the_token_and_keeps_the_probes_open(token, dialog_server) -> None:
    url = dialog_server.url
    anonymous = httpx.post(f"{url}/dialog", json={"session_id": "auth-1", "text": ""})
    assert anonymous.status_code == 401 and "token" in anonymous.json()["detail"]
    wrong = httpx.get(f"{url}/session/auth-1", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    ok = httpx.post(f"{url}/dialog", json={"session_id": "auth-1", "text": ""},
                    headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert httpx.get(f"{url}/session/auth-1", headers={"X-Salesagent-Token": TOKEN}).status_code == 200
    assert httpx.get(f"{url}/session/auth-1").status_code == 401  # the caller's data stays behind it
    assert httpx.get(f"{url}/health").status_code == 200
    assert httpx.get(f"{url}/openapi.json").status_code == 401


async def test_the_audiofork_socket_wants_the_token_in_its_url_and_never_logs_it(token) -> None:
    handler = Captured(JsonFormatter("test", mask_pii=True))
    watched = [logging.getLogger(n) for n in ("uvicorn.error", "salesagent")]
    for lg in watched:
        lg.addHandler(handler)
    server = ThreadedServer(telephony_app(EchoHandler(), TelephonySettings(enable_audiosocket=False)))
    try:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/audiofork?call_id=a-1", ping_interval=None):
                pass
        assert refused.value.response.status_code == 403
        async with connect(f"{server.ws_url}/audiofork?call_id=a-2&token={TOKEN}", ping_interval=None,
                           subprotocols=["audio.drachtio.org"]) as ws:  # type: ignore[list-item]
            await ws.send('{"callId": "a-2", "sampleRate": 8000}')
            await asyncio.sleep(0.2)
    finally:
        server.stop()
        for lg in watched:
            lg.removeHandler(handler)
    assert not [line for line in handler.lines if TOKEN in line]


def test_a_public_bind_without_a_token_is_refused() -> None:
    for host in ("0.0.0.0", "10.1.2.3", "::", "clinic.example"):
        with pytest.raises(InsecureBindError, match="SALESAGENT_API_TOKEN"):
            check_bind(host, None)
        check_bind(host, TOKEN)  # with a token it may
    for host in ("127.0.0.1", "::1", "localhost"):
        check_bind(host, None)


def test_serve_dialog_on_a_public_address_without_a_token_exits_2_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SALESAGENT_API_TOKEN"}
    proc = subprocess.run([sys.executable, "-m", "salesagent.cli.main", "serve-dialog", "--host", "0.0.0.0",
                           "--port", "1"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "SALESAGENT_API_TOKEN" in lines[0]


async def test_twilio_media_is_let_in_by_a_valid_twilio_signature_only(token, monkeypatch) -> None:
    from salesagent.security import twilio_signature

    monkeypatch.setenv("SALESAGENT_TWILIO_AUTH_TOKEN", "twilio-account-secret")
    monkeypatch.setenv("SALESAGENT_TWILIO_PUBLIC_URL", "wss://agent.clinic.example")
    server = ThreadedServer(telephony_app(EchoHandler(), TelephonySettings(enable_audiosocket=False)))
    good = twilio_signature("twilio-account-secret", "wss://agent.clinic.example/twilio/media")
    forged = twilio_signature("another-account", "wss://agent.clinic.example/twilio/media")
    try:
        for headers in ({}, {"X-Twilio-Signature": forged}):
            with pytest.raises(InvalidStatus):
                async with connect(f"{server.ws_url}/twilio/media", additional_headers=headers):
                    pass
        async with connect(f"{server.ws_url}/twilio/media", additional_headers={"X-Twilio-Signature": good}) as ws:
            await ws.send('{"event": "connected", "protocol": "Call", "version": "1.0.0"}')
        with pytest.raises(InvalidStatus):  # the signature opens Twilio's path only
            async with connect(f"{server.ws_url}/audiofork", additional_headers={"X-Twilio-Signature": good}):
                pass
    finally:
        server.stop()
