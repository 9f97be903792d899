"""Outbound audio bookkeeping: one :class:`PlaybackItem` per enqueued chunk, with what was sent
and what the caller has heard by the play clock.

An item can be *paused* (a possible backchannel): the peer flushes its buffer, the item goes back
to the queue rewound to the last sample the caller heard, and a resume goes on from there, so
the caller never hears a stretch twice. ``segment`` numbers each such restart, so a playout timer
set for an earlier stretch cannot mark the item played.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

_item_ids = itertools.count(1)


class PlaybackState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"  # all bytes handed to the peer, not yet played out
    PLAYED = "played"
    CLEARED = "cleared"  # cut by clear() or by the end of the call


@dataclass(eq=False)
class PlaybackItem:
    """One enqueued piece of agent audio at the wire rate, with its delivery accounting."""

    pcm: bytes
    sample_rate: int
    mark: str | None = None
    text: str | None = None
    id: int = field(default_factory=lambda: next(_item_ids))
    state: PlaybackState = PlaybackState.QUEUED
    sent_bytes: int = 0
    heard_s: float = 0.0
    play_start: float | None = None  # loop time the peer starts playing the first sent frame
    play_end: float | None = None  # loop time the peer finishes playing the last sent frame
    segment: int = 0  # bumped by every pause; a playout timer of an older segment is stale
    _segment_start: float | None = field(default=None, repr=False)  # loop time this stretch began
    _segment_offset_s: float = field(default=0.0, repr=False)  # heard before this stretch
    _done: asyncio.Future[bool] | None = field(default=None, repr=False)
    _started: asyncio.Future[float | None] | None = field(default=None, repr=False)

    def bind(self, loop: asyncio.AbstractEventLoop) -> PlaybackItem:
        """Give the item its futures on the call's loop (done by ``Call.enqueue``)."""
        self._done = loop.create_future()
        self._started = loop.create_future()
        return self

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate

    @property
    def sent_s(self) -> float:
        return self.sent_bytes / 2 / self.sample_rate

    @property
    def heard_fraction(self) -> float:
        """Share of the item the caller heard (1.0 for an empty marker item that was reached)."""
        if not self.pcm:
            return 1.0 if self.state is PlaybackState.PLAYED else 0.0
        return min(1.0, self.heard_s / self.duration_s)

    @property
    def remaining(self) -> int:
        return len(self.pcm) - self.sent_bytes

    @property
    def finished(self) -> bool:
        return self.state in (PlaybackState.PLAYED, PlaybackState.CLEARED)

    async def wait(self) -> bool:
        """True once played out, False if it was cleared or the call ended first."""
        assert self._done is not None
        return await asyncio.shield(self._done)

    async def wait_started(self) -> float | None:
        """Loop time the caller starts hearing this item, or None if it ends unheard."""
        assert self._started is not None
        return await asyncio.shield(self._started)

    def on_start(self, callback: Callable[[float], None]) -> None:
        """Call ``callback(loop time)`` when the caller starts hearing this item (never if cut first)."""
        assert self._started is not None

        def fire(fut: asyncio.Future[float | None]) -> None:
            if not fut.cancelled() and fut.result() is not None:
                callback(fut.result())

        self._started.add_done_callback(fire)

    # -- used by the call core -----------------------------------------------------------------
    def started_frame(self, start: float) -> None:
        if self.play_start is None:
            self.play_start = start
            if self._started is not None and not self._started.done():
                self._started.set_result(start)
        if self._segment_start is None:
            self._segment_start = start
            self.state = PlaybackState.SENDING

    def heard_by(self, now: float) -> float:
        """Seconds of this item the caller has heard at loop time ``now``."""
        if self._segment_start is None:
            return self._segment_offset_s
        playing = max(0.0, min(self.sent_s - self._segment_offset_s, now - self._segment_start))
        return self._segment_offset_s + playing

    def rewind(self, now: float) -> None:
        """Pause: forget what was sent but not heard; the next frame is the first unheard one."""
        heard = self.heard_by(now)
        self.sent_bytes = min(len(self.pcm), round(heard * self.sample_rate) * 2)
        self.heard_s = self._segment_offset_s = self.sent_s
        self._segment_start = None
        self.play_end = None
        self.segment += 1
        self.state = PlaybackState.QUEUED

    def finish(self, *, played: bool, now: float) -> bool:
        """Settle the item; False if it was already settled."""
        if self.finished:
            return False
        if played:
            self.state = PlaybackState.PLAYED
            self.heard_s = self.sent_s
        else:
            self.state = PlaybackState.CLEARED
            self.heard_s = self.heard_by(now)
        if self._done is not None and not self._done.done():
            self._done.set_result(played)
        if self._started is not None and not self._started.done():
            self._started.set_result(self.play_start)
        return True
