"""Mounting the console into a FastAPI app, its login, and the guard every console route goes through.

Pages that need a login redirect to ``/console/login``; the JSON API and WebSockets answer 401 /
close 1008 instead, so a script gets a clear status rather than a login form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from salesagent.console.auth import COOKIE, Sessions, parse_users, verify_password
from salesagent.console.config import ConsoleSettings
from salesagent.console.index import CallIndex
from salesagent.console.live import LiveHub

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
_DUMMY_HASH = "scrypt$00$00"  # compared against when the user is unknown, so timing tells nothing


@dataclass
class Console:
    """What the console's routes share; lives on ``app.state.console``."""

    settings: ConsoleSettings
    index: CallIndex
    hub: LiveHub
    outbox: Any  # notify.Outbox or None
    phone: Any  # transport.browser.BrowserPhone or None
    app: Any = None
    users: dict[str, str] = field(default_factory=dict)
    sessions: Sessions | None = None

    def wake_worker(self) -> None:
        worker = getattr(self.app.state, "lead_worker", None) if self.app is not None else None
        if worker is not None:
            worker.wake()


def console_of(request: Any) -> Console:
    return request.app.state.console


def current_user(request: Request) -> str | None:
    console = console_of(request)
    return console.sessions.user(request.cookies.get(COOKIE)) if console.sessions else None


class LoginRequired(Exception):
    """Raised by :func:`page_user`; answered with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def page_user(request: Request) -> str:
    """Dependency of the HTML pages: the logged-in user, or a redirect to the login page."""
    user = current_user(request)
    if user is None:
        raise LoginRequired(request.url.path)
    return user


def api_user(request: Request) -> str:
    """Dependency of the JSON API: the logged-in user, or 401."""
    user = current_user(request)
    if user is None:
        raise HTTPException(401, "login required (POST /console/login)")
    return user


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
    from salesagent.console.pages import pages_router
    from salesagent.console.phone_routes import phone_router
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
