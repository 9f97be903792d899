"""Real-time pacing of agent audio towards the peer.

Telephony peers play what they receive as fast as it arrives and buffer the rest. If we pushed a
whole utterance at once, ``clear()`` could not take it back and "played" would mean nothing. So
the pump sends fixed frames on the play clock, never more than ``lead_frames`` ahead of what the
caller is hearing: after a barge-in the caller hears at most that lead (60 ms by default).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from salesagent.transport.call import Call, PlaybackItem

log = logging.getLogger(__name__)


class FrameSink(Protocol):
    """The wire side of a bridge for outbound audio."""

    #: True when the peer confirms playback itself (Twilio echoes marks); otherwise an item counts
    #: as played when the play clock passes its end.
    echoes_marks: bool

    async def send_audio(self, pcm: bytes, item: PlaybackItem) -> None: ...

    async def send_clear(self) -> None: ...

    async def send_mark(self, item: PlaybackItem) -> None: ...


class OutboundPump:
    """Drains one call's playback queue into a :class:`FrameSink` at real-time pace."""

    def __init__(self, call: Call, sink: FrameSink, *, frame_ms: int = 20, lead_frames: int = 3) -> None:
        self.call = call
        self.sink = sink
        self.frame_bytes = call.out_rate * frame_ms // 1000 * 2
        self.frame_s = frame_ms / 1000
        self.lead_s = lead_frames * self.frame_s
        self.frames_sent = 0

    async def run(self) -> None:
        call, loop = self.call, asyncio.get_running_loop()
        try:
            while call.stopped is None:
                if call.clear_pending:
                    call.clear_pending = False
                    await self.sink.send_clear()
                    continue
                item = call.next_item()
                if item is None:
                    await call.wait_wake(None)
                    continue
                if item.remaining == 0:
                    call.item_sent(item)
                    if self.sink.echoes_marks:
                        await self.sink.send_mark(item)
                    else:
                        assert item.play_end is not None
                        loop.call_at(item.play_end, call.played_up_to, item, item.segment)
                    continue
                ahead = call.play_clock - loop.time()
                if ahead > self.lead_s - self.frame_s / 2:
                    # at least 1 ms: a clock with coarse resolution (or a virtual one) must move on
                    await call.wait_wake(max(ahead - self.lead_s + self.frame_s / 2, 1e-3))
                    continue
                frame = call.take_frame(item, self.frame_bytes)
                await self.sink.send_audio(frame, item)
                self.frames_sent += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Usually the peer went away mid-send; the bridge's reader reports how the call ended.
            log.warning("outbound audio stopped", extra={"context": {"call_id": call.call_id, "error": repr(exc)}})
