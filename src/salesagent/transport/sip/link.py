"""What one SIP call looks like to the asyncio side, and the only state both threads touch.

pjsua2 runs on its own threads (the SIP worker and pjmedia's conference clock); the WebSocket leg
runs on the asyncio loop. They meet here: caller audio crosses into the loop with
``loop.call_soon_threadsafe`` (never a blocking put from the clock thread), agent audio crosses
back through the lock-protected :class:`PlayoutBuffer`. Nothing else is shared.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from salesagent.transport.sip.playout import PlayoutBuffer

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2  # 320: one 20 ms L16 frame at 8 kHz

_URI_USER = re.compile(r"sips?:([^@;>\s]+)@")


def caller_from_uri(uri: str) -> str | None:
    """``"Ivan" <sip:+79161234567@pbx;user=phone>`` -> ``+79161234567`` (the number the agent sees)."""
    match = _URI_USER.search(uri or "")
    return match.group(1) if match else None


@dataclass(eq=False)
class SipCallLink:
    """One call's identity plus the two audio hand-offs between pjsua2 threads and asyncio."""

    key: int
    call_id: str
    from_uri: str
    to_uri: str
    loop: asyncio.AbstractEventLoop
    playout: PlayoutBuffer
    max_inbound_frames: int = 250
    caller: str | None = None
    inbound: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    dropped_inbound: int = 0
    ended: bool = False

    def __post_init__(self) -> None:
        if self.caller is None:
            self.caller = caller_from_uri(self.from_uri)

    # --- called from pjsua2 threads -------------------------------------------------------------
    def deliver_audio(self, pcm: bytes) -> None:
        """One 20 ms caller frame from the conference clock thread."""
        self.loop.call_soon_threadsafe(self._put, pcm)

    def deliver_end(self) -> None:
        """The SIP dialog is over (BYE, CANCEL, error)."""
        self.loop.call_soon_threadsafe(self._put, None)

    # --- loop side ------------------------------------------------------------------------------
    def _put(self, item: bytes | None) -> None:
        if self.ended:
            return
        if item is None:
            self.ended = True
        elif self.inbound.qsize() >= self.max_inbound_frames:
            # The agent's socket is not keeping up: stale caller audio is worth less than memory.
            self.inbound.get_nowait()
            self.dropped_inbound += 1
        self.inbound.put_nowait(item)

    def metadata(self) -> dict[str, object]:
        """The first text frame of the fork, in the keys the audiofork server reads."""
        return {
            "uuid": self.call_id,
            "call_id": self.call_id,
            "caller": self.caller,
            "from": self.from_uri,
            "to": self.to_uri,
            "sample_rate": SAMPLE_RATE,
            "channels": 1,
            "mix_type": "mono",
            "source": "salesagent-sip",
        }
