"""What a call tells its handler, whatever the telephony underneath.

Every bridge (FreeSWITCH mod_audio_fork, Twilio Media Streams, Asterisk AudioSocket) turns its wire
protocol into these few events, so the voice pipeline is written once against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CallStarted:
    """The peer told us who is calling; always the first event of a call."""

    call_id: str
    sample_rate: int
    caller: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AudioIn:
    """One inbound frame: PCM16 little-endian mono at ``sample_rate``.

    ``t`` is the stream position of the frame's first sample in seconds since the call started
    (counted in samples, not wall clock, so it is exact and immune to network jitter).
    """

    pcm: bytes
    sample_rate: int
    t: float

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str


@dataclass(frozen=True, slots=True)
class MarkPlayed:
    """Everything enqueued up to and including the item carrying ``mark`` has been played."""

    mark: str


@dataclass(frozen=True, slots=True)
class CallStopped:
    """The last event of a call.

    ``reason``: ``hangup`` (the peer ended the call properly), ``disconnect`` (the connection was
    lost without a goodbye), ``error`` (the peer broke the protocol; see ``detail``), ``agent``
    (our handler hung up), ``shutdown`` (the server is stopping).
    """

    reason: str
    detail: str | None = None


CallEvent = CallStarted | AudioIn | Dtmf | MarkPlayed | CallStopped
