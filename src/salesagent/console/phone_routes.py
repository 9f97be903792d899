"""The browser phone: its page and its WebSocket (behind the same console login, checked on the
handshake from the session cookie, since a browser cannot put headers on a WebSocket)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, WebSocket
from fastapi.responses import HTMLResponse, Response

from salesagent.console.auth import COOKIE
from salesagent.console.context import console_of, page_user, templates

phone_router = APIRouter(prefix="/console", include_in_schema=False)


@phone_router.get("/phone", response_class=HTMLResponse)
async def phone_page(request: Request, user: Annotated[str, Depends(page_user)]) -> Response:
    return templates.TemplateResponse(request, "phone.html", {"user": user, "page": "phone",
                                                              "enabled": console_of(request).phone is not None})


@phone_router.websocket("/phone/ws")
async def phone_ws(ws: WebSocket) -> None:
    console = console_of(ws)
    user = console.sessions.user(ws.cookies.get(COOKIE)) if console.sessions else None
    if user is None or console.phone is None:
        await ws.close(code=1008, reason="login required" if user is None else "no voice agent here")
        return
    await console.phone.serve(ws, user)
