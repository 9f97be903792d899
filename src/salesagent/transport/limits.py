"""Bounds on what a peer may hold before it is a call: a connection cap and a first-message deadline.

Without them, 500 sockets that never send their metadata (or never finish the handshake) sit on
the worker forever, each with its buffers; the bridges refuse past the cap and close a silent
connection after ``first_message_timeout_s``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.websockets import WebSocket

from salesagent.transport.runner import ProtocolError
from salesagent.transport.wsutil import close_quietly

log = logging.getLogger(__name__)

T = TypeVar("T")

CLOSE_TRY_AGAIN = 1013  # WebSocket "try again later": past the connection cap


class ConnectionCap:
    """A count of open connections with a ceiling (one event loop: no lock needed)."""

    def __init__(self, limit: int, name: str) -> None:
        self.limit = limit
        self.name = name
        self.open = 0

    def try_enter(self) -> bool:
        if self.open >= self.limit:
            log.warning("connection refused: at the cap", extra={"context": {"bridge": self.name, "cap": self.limit}})
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open = max(0, self.open - 1)


async def first_message(awaitable: Awaitable[T], timeout_s: float, what: str) -> T:
    """``awaitable`` (the read of the first message), or :class:`ProtocolError` after ``timeout_s``."""
    try:
        return await asyncio.wait_for(awaitable, timeout_s)
    except TimeoutError:
        raise ProtocolError(f"no {what} within {timeout_s:g} s") from None


async def serve_within(cap: ConnectionCap, ws: WebSocket, serve: Callable[[WebSocket], Awaitable[None]]) -> None:
    """``serve(ws)`` holding a place under ``cap``; past the cap the handshake is refused."""
    if not cap.try_enter():
        await close_quietly(ws, CLOSE_TRY_AGAIN, "too many connections")
        return
    try:
        await serve(ws)
    finally:
        cap.leave()
