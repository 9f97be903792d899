"""WebSocket helpers for every bridge and gateway: the inbound frame limit, and closing a
Starlette WebSocket whose peer may already be gone, without raising."""

from __future__ import annotations

import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from salesagent.transport.runner import ProtocolError

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64000
"""Inbound frames larger than this end the connection: /audiofork, /twilio/media, the ASR gateway.

Legitimate frames are far smaller (20 ms of stereo 16 kHz L16 is 1.3 kB, a Twilio media event
about 400 bytes, two seconds of 16 kHz audio for the ASR gateway 64 kB), while one 16 MB frame,
parsed and decoded, froze the event loop of every live call for seconds."""

WS_MAX_SIZE = 2 * MAX_FRAME_BYTES
"""``ws_max_size`` for uvicorn wherever a server with these endpoints starts: uvicorn refuses
larger messages before assembling them (its default is 16 MiB); above ``MAX_FRAME_BYTES`` so the
endpoint's own check, with its clearer reason, answers first."""

CLOSE_TOO_BIG = 1009
"""RFC 6455 "message too big"."""


class FrameTooLarge(ProtocolError):
    """A peer sent a frame over the limit; it was dropped unread and the connection must end."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds {limit}")
        self.size = size
        self.limit = limit


async def receive_frame(ws: WebSocket, limit: int = MAX_FRAME_BYTES) -> dict[str, Any]:
    """``ws.receive()`` that refuses a frame over ``limit`` before anyone parses or decodes it.

    The one place the limit is checked, so every endpoint holds the same line. The server has
    already assembled the frame (uvicorn's ``ws_max_size``, 16 MB by default, is the only earlier
    bound: set it near this limit where the server is started), but nothing here touches it further.
    A text frame is measured in characters, never encoded: at least one byte each.
    """
    message = await ws.receive()
    data, text = message.get("bytes"), message.get("text")
    size = len(data) if data is not None else len(text) if text is not None else 0
    if size > limit:
        raise FrameTooLarge(size, limit)
    return message


def is_open(ws: WebSocket) -> bool:
    return ws.application_state == WebSocketState.CONNECTED and ws.client_state == WebSocketState.CONNECTED


async def send_text_quietly(ws: WebSocket, text: str) -> None:
    if is_open(ws):
        try:
            await ws.send_text(text)
        except Exception:  # the peer may be gone already; nothing to tell it then
            log.debug("send after end failed", exc_info=True)


async def close_quietly(ws: WebSocket, code: int, reason: str) -> None:
    if is_open(ws):
        try:
            await ws.close(code=code, reason=reason[:120])
        except Exception:
            log.debug("close after end failed", exc_info=True)
