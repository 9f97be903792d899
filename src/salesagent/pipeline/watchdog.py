"""The silence watchdog: "Вы меня слышите?" after a silence, then a goodbye and a hang-up.

It is one timer, armed only while the call is idle (nobody speaks, no caller turn or transcript is
pending, no agent turn runs) and disarmed by any activity, so a caller waiting on a slow decode
is never asked whether they are there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SilenceWatchdog:
    def __init__(self, after_s: float, prompts: int, on_prompt: Callable[[int], None],
                 on_give_up: Callable[[], None]) -> None:
        self.after_s = after_s
        self.prompts = prompts
        self.on_prompt = on_prompt
        self.on_give_up = on_give_up
        self.prompted = 0
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def idle(self) -> None:
        """The call went quiet: start counting (if not already)."""
        if self._timer is None and not self._closed:
            self._timer = asyncio.get_running_loop().call_later(self.after_s, self._fire)

    def activity(self) -> None:
        """Someone speaks or something is in flight: stop counting."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        """The call is over: never fire again (late callbacks may still call :meth:`idle`)."""
        self._closed = True
        self.activity()

    def caller_spoke(self) -> None:
        """A real caller turn: the prompts start over."""
        self.prompted = 0
        self.activity()

    def _fire(self) -> None:
        self._timer = None
        if self.prompted < self.prompts:
            self.prompted += 1
            self.on_prompt(self.prompted)
        else:
            self.on_give_up()
