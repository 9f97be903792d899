"""The transport-agnostic call: inbound events in, paced agent audio out.

A bridge creates one :class:`Call` per telephone call, feeds it the peer's events, and runs an
:class:`~salesagent.transport.pacing.OutboundPump` that drains what the handler enqueued at real
time pace. The voice pipeline only ever sees this class and the events in ``events.py``, so it is
written once for FreeSWITCH, Twilio and Asterisk.

Outbound audio is a queue of :class:`PlaybackItem` (one per utterance). Each item knows how much of
it was sent and how much the caller has (by the play clock) heard, so after a barge-in the
pipeline can tell what the caller actually heard: unplayed text is not counted as said.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

from salesagent.speech.audio import resample_pcm16
from salesagent.transport.events import AudioIn, CallEvent, CallStarted, CallStopped, Dtmf, MarkPlayed
from salesagent.transport.pcm import check_pcm16
from salesagent.transport.playback import PlaybackItem, PlaybackState

log = logging.getLogger(__name__)
__all__ = ["Call", "CallHandler", "PlaybackItem", "PlaybackState"]


@runtime_checkable
class CallHandler(Protocol):
    """What a bridge runs for each call; returning (or raising) hangs the call up."""

    async def handle(self, call: Call) -> None: ...


class _EventQueue:
    """Inbound events for the handler. Control events are never dropped; when a slow handler lets
    audio pile up past ``max_audio`` frames, the oldest audio goes (and is counted), because stale
    audio is worthless to a real-time conversation and unbounded memory is worse."""

    def __init__(self, max_audio: int) -> None:
        self._items: deque[CallEvent] = deque()
        self._ready = asyncio.Event()
        self._max_audio = max_audio
        self._audio = 0
        self.dropped_audio = 0

    def put(self, event: CallEvent) -> None:
        if isinstance(event, AudioIn):
            if self._audio >= self._max_audio:
                for i, old in enumerate(self._items):
                    if isinstance(old, AudioIn):
                        del self._items[i]
                        self._audio -= 1
                        self.dropped_audio += 1
                        break
            self._audio += 1
        self._items.append(event)
        self._ready.set()

    async def get(self) -> CallEvent:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        event = self._items.popleft()
        if isinstance(event, AudioIn):
            self._audio -= 1
        return event


class Call:
    """One live call as the handler sees it.

    Read events with ``async for event in call`` (ends after :class:`CallStopped`) or
    :meth:`recv`. Speak with :meth:`enqueue`, interrupt with :meth:`clear`, end with :meth:`hangup`.
    """

    def __init__(
        self,
        started: CallStarted,
        *,
        transport: str,
        out_rate: int | None = None,
        max_inbound_frames: int = 500,
    ) -> None:
        self.started = started
        self.transport = transport
        self.out_rate = out_rate or started.sample_rate
        self._events = _EventQueue(max_inbound_frames)
        self._events.put(started)
        self._queue: deque[PlaybackItem] = deque()  # not yet fully sent
        self._unplayed: deque[PlaybackItem] = deque()  # fully sent, waiting to be played
        self._loop = asyncio.get_running_loop()
        self.play_clock = self._loop.time()  # when the peer will have played all sent audio
        self._wake = asyncio.Event()  # wakes the pump: new item, clear, hangup
        self.clear_pending = False
        self.paused = False  # pause(): nothing is sent until resume() or clear()
        self._hangup = asyncio.Event()
        self.stopped: CallStopped | None = None
        self._inbound_samples = 0

    # --- identity -------------------------------------------------------------------------------
    @property
    def call_id(self) -> str:
        return self.started.call_id

    @property
    def caller(self) -> str | None:
        return self.started.caller

    @property
    def sample_rate(self) -> int:
        """Rate of inbound audio (``AudioIn.sample_rate``)."""
        return self.started.sample_rate

    @property
    def metadata(self) -> dict[str, Any]:
        return self.started.metadata

    @property
    def dropped_audio_frames(self) -> int:
        return self._events.dropped_audio

    # --- inbound (handler side) -----------------------------------------------------------------
    async def recv(self) -> CallEvent:
        return await self._events.get()

    async def __aiter__(self) -> AsyncIterator[CallEvent]:
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, CallStopped):
                return

    # --- outbound (handler side) ----------------------------------------------------------------
    def enqueue(
        self, audio: bytes, mark: str | None = None, *, sample_rate: int | None = None, text: str | None = None
    ) -> PlaybackItem:
        """Queue PCM16 mono agent audio (at ``sample_rate``, default the wire rate) to be played.

        ``mark`` is reported by a :class:`MarkPlayed` event (and :meth:`wait_mark`) once this item
        has been played. An empty ``audio`` with a mark is a pure marker after what is queued.
        On a call that has ended the item comes back already ``CLEARED``.
        """
        check_pcm16(audio)
        rate = sample_rate or self.out_rate
        pcm = resample_pcm16(bytes(audio), rate, self.out_rate) if rate != self.out_rate else bytes(audio)
        item = PlaybackItem(pcm=pcm, sample_rate=self.out_rate, mark=mark, text=text).bind(self._loop)
        if self.stopped is not None:
            # The call can end at any await; a pipeline racing the hangup gets a cut item, not a crash.
            self._finish(item, played=False, now=self._loop.time())
            return item
        self._queue.append(item)
        self._wake.set()
        return item

    def clear(self) -> list[PlaybackItem]:
        """Barge-in: drop everything not yet played and tell the peer to flush its buffer.

        Returns the interrupted items with ``heard_s`` set (by the play clock), oldest first.
        """
        now = self._loop.time()
        self.paused = False
        cut = [*self._unplayed, *self._queue]
        self._unplayed.clear()
        self._queue.clear()
        for item in cut:
            self._finish(item, played=False, now=now)
        if cut:
            self.clear_pending = True
            self.play_clock = now
            self._wake.set()
            log.info(
                "playback cleared",
                extra={"context": {"call_id": self.call_id, "items": len(cut),
                                   "heard_s": round(sum(i.heard_s for i in cut), 3)}},
            )
        return cut

    def pause(self) -> list[PlaybackItem]:
        """Speech that may be only "угу": the peer flushes its buffer now, but what the caller has
        not heard stays queued, rewound to the last heard sample, until :meth:`resume` or
        :meth:`clear`. Also holds audio not queued yet (a reply still being thought of).
        Returns the paused items."""
        now = self._loop.time()
        if self.paused:
            return []
        items = [*self._unplayed, *self._queue]
        for item in items:
            item.rewind(now)
        self._unplayed.clear()
        self._queue = deque(items)
        self.paused = True  # with nothing queued yet: audio enqueued from now on waits too
        if items:
            self.clear_pending = True
            self.play_clock = now
        self._wake.set()
        return items

    def resume(self) -> None:
        """Go on from where :meth:`pause` stopped, without replaying what was heard."""
        if self.paused:
            self.paused = False
            self._wake.set()

    async def wait_mark(self, mark: str) -> bool:
        """Wait for the most recent queued item carrying ``mark``: True if played, False if cut."""
        for item in reversed([*self._unplayed, *self._queue]):
            if item.mark == mark:
                return await item.wait()
        raise KeyError(f"no pending item with mark {mark!r}")

    async def drain(self) -> bool:
        """Wait until everything queued so far has been played (False if it was cut)."""
        pending = [*self._unplayed, *self._queue]
        if not pending:
            return True
        return await pending[-1].wait()

    async def hangup(self, *, after_playback: bool = True) -> None:
        """End the call from our side, by default after the queued audio has been played."""
        if after_playback and self.stopped is None:
            await self.drain()
        self._hangup.set()
        self._wake.set()

    @property
    def hangup_requested(self) -> bool:
        return self._hangup.is_set()

    async def wait_hangup(self) -> None:
        await self._hangup.wait()

    # --- bridge side ----------------------------------------------------------------------------
    def push_audio(self, pcm: bytes) -> None:
        rate = self.started.sample_rate
        self._events.put(AudioIn(pcm=pcm, sample_rate=rate, t=self._inbound_samples / rate))
        self._inbound_samples += len(pcm) // 2

    def push_dtmf(self, digit: str) -> None:
        self._events.put(Dtmf(digit))

    def push_stopped(self, reason: str, detail: str | None = None) -> None:
        """Record the end of the call (first reason wins) and cut whatever was not played."""
        if self.stopped is not None:
            return
        self.stopped = CallStopped(reason, detail)
        now = self._loop.time()
        for item in [*self._unplayed, *self._queue]:
            self._finish(item, played=False, now=now)
        self._unplayed.clear()
        self._queue.clear()
        self._events.put(self.stopped)
        self._wake.set()

    def next_item(self) -> PlaybackItem | None:
        """What the pump sends next; nothing while playback is paused."""
        return self._queue[0] if self._queue and not self.paused else None

    async def wait_wake(self, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    def take_frame(self, item: PlaybackItem, frame_bytes: int) -> bytes:
        """The next frame of ``item`` (zero-padded to a whole frame) and advance the play clock."""
        now = self._loop.time()
        chunk = item.pcm[item.sent_bytes : item.sent_bytes + frame_bytes]
        start = max(now, self.play_clock)
        item.started_frame(start)
        item.sent_bytes += len(chunk)
        self.play_clock = start + frame_bytes / 2 / self.out_rate
        item.play_end = start + len(chunk) / 2 / self.out_rate
        if len(chunk) < frame_bytes:
            chunk += b"\x00" * (frame_bytes - len(chunk))
        return chunk

    def item_sent(self, item: PlaybackItem) -> None:
        """All of ``item`` is with the peer; it now waits to be played."""
        self._queue.popleft()
        if item.play_end is None:  # a pure marker (or a stretch heard before a pause): played with what precedes it
            item.play_end = max(self._loop.time(), self.play_clock)
        if item.play_start is None:
            item.play_start = item.play_end
        item.state = PlaybackState.SENT
        self._unplayed.append(item)

    def played_up_to(self, item: PlaybackItem, segment: int | None = None) -> None:
        """The peer has played ``item`` and, since playback is in order, everything before it.

        ``segment`` is the item's segment when the timer was set: a pause since makes it stale.
        """
        if item not in self._unplayed or (segment is not None and segment != item.segment):
            return  # already cleared, reported, or paused and re-queued since
        now = self._loop.time()
        while self._unplayed:
            done = self._unplayed.popleft()
            self._finish(done, played=True, now=now)
            if done is item:
                break

    def find_unplayed(self, item_id: int) -> PlaybackItem | None:
        return next((i for i in self._unplayed if i.id == item_id), None)

    def _finish(self, item: PlaybackItem, *, played: bool, now: float) -> None:
        if item.finish(played=played, now=now) and played and item.mark is not None:
            self._events.put(MarkPlayed(item.mark))
