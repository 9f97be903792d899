"""Issue 12, finding 8: the caller's number in the /audiofork URL never reaches the logs.

FreeSWITCH's ``uuid_audio_fork`` URL carries ``?caller=+79161234567``; uvicorn's WebSocket and
access lines print the path with its query, and the bridge's rejection line logged the query
dict, both unmasked. Logged through the project's JSON formatter (what ``setup_logging``
installs), the number now reads ``+7916***4567`` everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from salesagent.logs import JsonFormatter
from salesagent.transport.config import TelephonySettings
from salesagent.transport.echo import EchoHandler
from salesagent.transport.server import create_app
from support.live_server import Captured, ThreadedServer

NUMBER = "79161234567"


@pytest.fixture
def captured():
    """On the loggers themselves, not the root: an earlier uvicorn server in this process may have
    left ``uvicorn.access`` with ``propagate=False`` (what ``access_log=False`` does)."""
    handler = Captured(JsonFormatter("test", mask_pii=True))
    touched = [logging.getLogger(n) for n in ("uvicorn.error", "uvicorn.access", "salesagent")]
    saved = [(lg.level, lg.disabled) for lg in touched]
    for lg in touched:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
        lg.disabled = False
    yield handler
    for lg, (level, disabled) in zip(touched, saved, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)
        lg.disabled = disabled


async def test_caller_in_audiofork_url_is_masked_in_every_log_line(captured) -> None:
    server = ThreadedServer(create_app(EchoHandler(), TelephonySettings(enable_audiosocket=False)),
                            access_log=True)
    try:
        for caller in ("%2B" + NUMBER, "+" + NUMBER, NUMBER):
            url = f"{server.ws_url}/audiofork?call_id=mask-1&caller={caller}"
            async with connect(url, ping_interval=None) as ws:
                await ws.send("{not json")  # rejected: the bridge logs why, with the query
                with contextlib.suppress(ConnectionClosed):
                    async with asyncio.timeout(10):
                        while True:
                            await ws.recv()
        httpx.get(f"{server.url}/healthz?caller=%2B{NUMBER}").raise_for_status()
    finally:
        server.stop()  # joins uvicorn's thread: every line it was going to write is written
    lines = captured.lines
    accepted = [line for line in lines if "WebSocket /audiofork" in line]
    rejected = [line for line in lines if "mod_audio_fork start rejected" in line]
    access = [line for line in lines if "GET /healthz" in line]
    assert len(accepted) == 3 and len(rejected) == 3 and len(access) == 1, lines
    assert all("+7916***4567" in line for line in accepted + rejected + access)
    leaked = [line for line in lines if NUMBER in line or "9161234567" in line]
    assert leaked == []
