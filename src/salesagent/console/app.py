"""Mounting the console into a FastAPI app, and its login.

Pages that need a login redirect to ``/console/login``; the JSON API and WebSockets answer 401 /
close 1008 instead, so a script gets a clear status rather than a login form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from salesagent.console.auth import COOKIE, Sessions, parse_users, verify_password
from salesagent.console.config import ConsoleSettings
from salesagent.console.context import HERE, Console, LoginRequired, console_of, templates
from salesagent.console.index import CallIndex
from salesagent.console.live import LiveHub
from salesagent.console.pages import pages_router
from salesagent.console.phone_routes import phone_router

_DUMMY_HASH = "scrypt$00$00"  # compared against when the user is unknown, so timing tells nothing


auth_router = APIRouter(prefix="/console", include_in_schema=False)


@auth_router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/console/calls", error: str = "") -> Response:
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next), "error": error})


@auth_router.post("/login")
async def login(request: Request) -> Response:
    console = console_of(request)
    body = await request.body()
    if len(body) > 4096:
        raise HTTPException(413, "login form too large")
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    name, password = form.get("username", ""), form.get("password", "")
    next_url = _safe_next(form.get("next", "/console/calls"))
    stored = console.users.get(name, _DUMMY_HASH)
    if not (verify_password(password, stored) and name in console.users and console.sessions):
        return RedirectResponse(f"/console/login?error=1&next={quote(next_url)}", status_code=303)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(COOKIE, console.sessions.issue(name), httponly=True, samesite="lax",
                        secure=console.settings.secure_cookie, path="/console",
                        max_age=int(console.settings.session_hours * 3600))
    return response


@auth_router.post("/logout")
async def logout() -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


def _safe_next(url: str) -> str:
    """Only a console path: a login link must not send staff to another site."""
    return url if url.startswith("/console/") and "//" not in url and "\\" not in url else "/console/calls"


def mount_console(app: FastAPI, *, calls_root: Path, db_path: Path, outbox: Any = None, handler: Any = None,
                  hub: LiveHub | None = None, settings: ConsoleSettings | None = None) -> Console:
    """Add ``/console`` to ``app``. ``handler`` (the VoiceAgent) answers the browser phone."""
    from salesagent.transport.browser import BrowserPhone

    settings = settings or ConsoleSettings()
    console = Console(settings=settings, index=CallIndex(db_path, calls_root), hub=hub or LiveHub(),
                      outbox=outbox, phone=BrowserPhone(handler) if handler is not None else None, app=app,
                      users=parse_users(settings.users), sessions=Sessions(settings.secret, settings.session_hours))
    app.state.console = console

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/console/login?next={quote(exc.next_url)}", status_code=303)

    app.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    app.include_router(auth_router)
    app.include_router(pages_router)
    app.include_router(phone_router)
    return console
