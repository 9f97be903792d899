"""Issue 12, finding 7: a peer that never says who it is, or one too many, is not held forever.

Before: 500 connections that never sent their metadata / ``start`` / UUID were all held for as
long as the peer liked. Now each bridge closes a silent connection after
``first_message_timeout_s`` and refuses connections past ``max_connections``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from salesagent.transport.audiosocket import AudioSocketServer
from salesagent.transport.config import TelephonySettings
from salesagent.transport.echo import EchoHandler
from salesagent.transport.server import create_app
from support.live_server import ThreadedServer


@pytest.fixture
def server():
    settings = TelephonySettings(enable_audiosocket=False, first_message_timeout_s=0.5, max_connections=3)
    server = ThreadedServer(create_app(EchoHandler(), settings))
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/audiofork?call_id=silent", "/twilio/media"])
async def test_a_connection_that_never_says_who_it_is_is_closed(server, path) -> None:
    async with connect(f"{server.ws_url}{path}", ping_interval=None) as ws:
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                await ws.recv()
        assert time.monotonic() - started < 5
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
        assert "within 0.5 s" in closed.value.rcvd.reason


async def test_connections_past_the_cap_are_refused_and_the_cap_frees_up(server) -> None:
    url = f"{server.ws_url}/audiofork?call_id=cap"
    async with contextlib.AsyncExitStack() as held:
        for _ in range(3):
            await held.enter_async_context(connect(url, ping_interval=None))
        with pytest.raises(InvalidStatus):
            async with connect(url, ping_interval=None):
                pass
    await asyncio.sleep(1.0)  # the three were closed (by us, or by the deadline)
    async with connect(url, ping_interval=None) as ws:  # room again
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(10):
                await ws.recv()


async def test_audiosocket_closes_a_connection_without_its_uuid() -> None:
    settings = TelephonySettings(first_message_timeout_s=0.5)
    async with AudioSocketServer(EchoHandler(), settings, host="127.0.0.1", port=0) as audiosocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", audiosocket.port)
        started = time.monotonic()
        async with asyncio.timeout(10):
            rest = await reader.read()  # the server sends its error frame and closes
        assert time.monotonic() - started < 5
        assert rest[:1] == b"\xff"  # KIND_ERROR
        writer.close()
