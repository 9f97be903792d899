"""Policy engine HTTP service (FastAPI): ``POST /dialog``, ``GET|DELETE /session/{id}``.

Bad bodies get a 4xx with a message, never a 500: oversized bodies are refused before they are
read, and a chunked one as soon as it passes the limit (413); JSON that is not UTF-8 or not JSON
is a 400, a wrong shape is a 422.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from salesagent import __version__
from salesagent.dialog.service import DialogService, UnknownSession, session_view
from salesagent.security import protect
from salesagent.services.limits import BodyLimit

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
SESSION_ID_PATTERN = r"^[A-Za-z0-9_.:@+\-]{1,128}$"  # "@": SIP Call-IDs


class DialogRequest(BaseModel):
    session_id: str = Field(pattern=SESSION_ID_PATTERN, description="Call id; a new one starts a call")
    text: str = Field(default="", max_length=5000, description="Caller utterance; empty on the first request")


class DialogResponse(BaseModel):
    session_id: str
    reply: str
    state: str = Field(description="The state the engine is now in: the one whose question the reply asks")
    slots: dict[str, Any]
    done: bool


class ErrorDetail(BaseModel):
    detail: str


ERRORS_400_413 = {
    400: {"model": ErrorDetail, "description": "the body is not valid UTF-8 JSON"},
    413: {"model": ErrorDetail, "description": "the body is over 64 KiB"},
}
ERROR_404 = {404: {"model": ErrorDetail, "description": "no such session"}}
API_401 = {401: {"model": ErrorDetail, "description": "SALESAGENT_API_TOKEN is set and the request lacks it"}}


def _allowed_methods(app: FastAPI, request: Request) -> str:
    """Every method the path has. Starlette's 405 names only the first route that matches the
    path, so ``OPTIONS /session/{id}`` said "Allow: GET" although DELETE exists too."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def create_app(service: DialogService, sweep_interval_s: float = 30.0) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(service.sweep_forever(sweep_interval_s))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    app = FastAPI(title="salesagent policy engine", version=__version__, lifespan=lifespan)
    protect(app)  # SALESAGENT_API_TOKEN, when set, guards every route but the health probes
    app.state.dialog = service

    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)  # also while a chunked body streams in

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            exc.headers = {**(exc.headers or {}), "Allow": _allowed_methods(app, request)}
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"detail": "body is not valid UTF-8 JSON"}, status_code=400)
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.post("/dialog", response_model=DialogResponse, responses={**ERRORS_400_413, **API_401})
    async def dialog(body: DialogRequest) -> DialogResponse:
        result = await service.handle(body.session_id, body.text)
        return DialogResponse(
            session_id=result.session_id,
            reply=result.reply,
            state=result.state.value,
            slots=result.slots,
            done=result.done,
        )

    @app.get("/session/{session_id}", responses={**ERROR_404, **API_401})
    async def get_session(session_id: str) -> dict[str, Any]:
        try:
            return session_view(await service.get(session_id))
        except UnknownSession:
            raise HTTPException(404, f"unknown session {session_id!r}") from None

    @app.delete("/session/{session_id}", responses={**ERROR_404, **API_401})
    async def delete_session(session_id: str) -> dict[str, Any]:
        try:
            await service.delete(session_id)
        except UnknownSession:
            raise HTTPException(404, f"unknown session {session_id!r}") from None
        return {"session_id": session_id, "deleted": True}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", responses={503: {"description": "the session store does not answer"}})
    async def ready() -> JSONResponse:
        ok = await asyncio.to_thread(service.ready)
        return JSONResponse({"ready": ok, "store": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)

    return app
