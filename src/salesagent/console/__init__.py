"""The clinic's console at ``/console``: calls to read and hear, leads to fix, live calls, numbers,
and a phone in the browser. Server-rendered (Jinja2) pages with small scripts and vendored chart
and waveform libraries, so nothing needs a front-end build. :func:`mount_console` adds it to the
voice app that ``salesagent serve`` runs; ``salesagent console add-user`` makes staff logins."""

from salesagent.console.app import mount_console
from salesagent.console.config import ConsoleSettings
from salesagent.console.live import LiveHub

__all__ = ["ConsoleSettings", "LiveHub", "mount_console"]
