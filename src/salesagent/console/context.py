"""What the console's routes share: the :class:`Console` on ``app.state.console``, the templates,
and the login guard every console route goes through (pages redirect to the login, the JSON API
answers 401), in a module of its own so the route modules never import the app that mounts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates

from salesagent.console.auth import COOKIE, Sessions
from salesagent.console.config import ConsoleSettings
from salesagent.console.index import CallIndex
from salesagent.console.live import LiveHub

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


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
