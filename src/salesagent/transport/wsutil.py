"""Closing a Starlette WebSocket whose peer may already be gone, without raising."""

from __future__ import annotations

import logging

from starlette.websockets import WebSocket, WebSocketState

log = logging.getLogger(__name__)


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
