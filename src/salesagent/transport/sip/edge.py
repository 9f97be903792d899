"""The SIP edge: answers SIP calls and forks each one to the agent over ``mod_audio_fork``.

A call is answered (200 OK) only once the agent's WebSocket is open, so a caller never sits in a
silent call when the agent is down: they get 503 instead. Each call then runs one
:class:`AudioForkLeg` until either side hangs up; the other side is ended with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from salesagent.transport.sip.config import SipSettings
from salesagent.transport.sip.fork import AudioForkLeg, AudioForkUnavailableError
from salesagent.transport.sip.link import SipCallLink
from salesagent.transport.sip.ua import SipUserAgent

log = logging.getLogger(__name__)

_SC_OK = 200
_SC_SERVICE_UNAVAILABLE = 503


class SipEdge:
    """``async with SipEdge(settings) as edge: await edge.wait_closed()``; or :func:`run_sip_edge`."""

    def __init__(self, settings: SipSettings | None = None) -> None:
        self.settings = settings or SipSettings()
        self.ua: SipUserAgent | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._links: dict[asyncio.Task[None], int] = {}
        self._closed = asyncio.Event()
        self.calls_answered = 0
        self.calls_rejected = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.ua = SipUserAgent(self.settings, loop, self._on_call)
        await asyncio.to_thread(self.ua.start)

    async def stop(self, grace_s: float = 3.0) -> None:
        """Hang up every live call, give each fork ``grace_s`` to close (the agent gets the
        zero-length frame, so it keeps the session and lead), then cancel what is left."""
        if self.ua is not None:
            for key in list(self._links.values()):
                with contextlib.suppress(Exception):
                    self.ua.hangup(key)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_s)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.ua is not None:
            await asyncio.to_thread(self.ua.stop)
        self._closed.set()

    async def __aenter__(self) -> SipEdge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def _on_call(self, link: SipCallLink) -> None:
        task = asyncio.create_task(self._serve(link), name=f"sip-call-{link.key}")
        self._tasks.add(task)
        self._links[task] = link.key
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._links.pop(task, None)

    async def _serve(self, link: SipCallLink) -> None:
        assert self.ua is not None
        ctx = {"call_id": link.call_id, "caller_id": link.caller}
        leg = AudioForkLeg(link, self.settings.audiofork_url, connect_timeout_s=self.settings.connect_timeout_s)
        try:
            await leg.connect()
        except AudioForkUnavailableError as exc:
            self.calls_rejected += 1
            log.error("agent unreachable, rejecting call with 503", extra={"context": {**ctx, "error": str(exc)}})
            self.ua.answer(link.key, _SC_SERVICE_UNAVAILABLE)
            return
        if link.ended:  # the caller gave up while we were connecting
            if leg.ws is not None:
                with contextlib.suppress(Exception):
                    await leg.ws.send(b"")
            await leg.close()
            return
        self.ua.answer(link.key, _SC_OK)
        self.calls_answered += 1
        log.info("call answered and forked", extra={"context": {**ctx, "url": self.settings.audiofork_url}})
        try:
            ended_by = await leg.run()
        finally:
            # Whoever ended it, make sure the SIP side is gone too (a no-op once disconnected).
            self.ua.hangup(link.key)
        log.info("fork closed", extra={"context": {**ctx, "ended_by": ended_by, "frames_up": leg.frames_sent,
                                                   "frames_down": leg.frames_received}})


async def serve_sip_edge(settings: SipSettings) -> None:
    """Run until SIGINT/SIGTERM (or cancellation), then hang up every call and stop."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with SipEdge(settings):
        log.info("SIP edge ready", extra={"context": {"port": settings.port, "url": settings.audiofork_url}})
        await stop.wait()
        log.info("SIP edge stopping")


def run_sip_edge(settings: SipSettings | None = None) -> None:
    """Blocking entry point: the SIP edge with ``settings`` (from ``SALESAGENT_SIP_*`` when None)."""
    asyncio.run(serve_sip_edge(settings or SipSettings()))
