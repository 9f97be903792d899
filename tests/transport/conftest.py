"""Real servers on 127.0.0.1 (free ports) for the bridge tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvicorn

from salesagent.transport.audiosocket import AudioSocketServer
from salesagent.transport.config import TelephonySettings
from salesagent.transport.server import create_app


@pytest.fixture
async def ws_server() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """``base = await ws_server(handler, **settings)`` -> ``ws://127.0.0.1:PORT``."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(handler: object, **overrides: object) -> str:
        settings = TelephonySettings(enable_audiosocket=False, **overrides)  # type: ignore[arg-type]
        config = uvicorn.Config(create_app(handler, settings), host="127.0.0.1", port=0,  # type: ignore[arg-type]
                                log_config=None, lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        servers.append((server, task))
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    yield start
    for server, task in servers:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


@pytest.fixture
async def audiosocket_server() -> AsyncIterator[Callable[..., Awaitable[int]]]:
    """``port = await audiosocket_server(handler, **settings)``."""
    servers: list[AudioSocketServer] = []

    async def start(handler: object, **overrides: object) -> int:
        server = AudioSocketServer(handler, TelephonySettings(**overrides), host="127.0.0.1", port=0)  # type: ignore[arg-type]
        await server.start()
        servers.append(server)
        return server.port

    yield start
    for server in servers:
        await server.close()
