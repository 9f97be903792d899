"""An echo handler for commissioning a line before the voice pipeline is plugged in.

The caller hears themselves (delayed by the pacing lead and the network), which proves both audio
directions, the rate and the channel mapping. DTMF ``*`` tests barge-in (``clear()``), ``#`` hangs
up from our side. It is the telephony equivalent of FreeSWITCH's 9196 echo extension.
"""

from __future__ import annotations

import logging

from salesagent.transport.call import Call
from salesagent.transport.events import AudioIn, Dtmf

log = logging.getLogger(__name__)


class EchoHandler:
    async def handle(self, call: Call) -> None:
        async for event in call:
            if isinstance(event, AudioIn):
                call.enqueue(event.pcm, sample_rate=event.sample_rate)
            elif isinstance(event, Dtmf):
                log.info("echo DTMF", extra={"context": {"call_id": call.call_id, "digit": event.digit}})
                if event.digit == "*":
                    call.clear()
                elif event.digit == "#":
                    await call.hangup(after_playback=False)
                    return
