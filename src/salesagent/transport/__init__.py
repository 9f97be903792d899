"""Telephony edge: one call core (``Call``, ``CallHandler``) and the bridges that feed it.

Bridges: FreeSWITCH mod_audio_fork (``audiofork``), Twilio Media Streams (``twilio``), Asterisk
AudioSocket (``audiosocket``). See docs/telephony.md.
"""

from salesagent.transport.call import Call, CallHandler, PlaybackItem, PlaybackState
from salesagent.transport.events import AudioIn, CallEvent, CallStarted, CallStopped, Dtmf, MarkPlayed

__all__ = [
    "AudioIn",
    "Call",
    "CallEvent",
    "CallHandler",
    "CallStarted",
    "CallStopped",
    "Dtmf",
    "MarkPlayed",
    "PlaybackItem",
    "PlaybackState",
]
