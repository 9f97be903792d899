"""The agent's mouth on one call: speech handles synthesised sentence by sentence into the call's
paced outbound queue, paused and resumed around possible backchannels, interrupted by real turns.

One handle speaks at a time; a new one interrupts the one before. Synthesis of sentence N+1 goes
on while sentence N plays (the synthesizer streams), and it goes on while playback is paused, so
a resume after "угу" has the audio ready.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from salesagent.pipeline.latency import TurnTimeline
from salesagent.pipeline.ports import SpeechSynthesizer
from salesagent.pipeline.speech_handle import SpeechHandle, SpokenSentence
from salesagent.speech.sentences import split_sentences
from salesagent.transport.call import Call

log = logging.getLogger(__name__)

Emit = Callable[..., None]


class AgentSpeaker:
    """Speech handles of one call, over its :class:`~salesagent.transport.Call` queue."""

    def __init__(self, call: Call, tts: SpeechSynthesizer, sample_rate: int, emit: Emit) -> None:
        self.call = call
        self.tts = tts
        self.rate = sample_rate
        self.emit = emit  # the engine's event bus: agent_audio, agent_settled, error
        self.current: SpeechHandle | None = None
        self.handles: list[SpeechHandle] = []

    # -- state ---------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """A handle is being synthesised or played (paused counts)."""
        return self.current is not None and not self.current.done()

    @property
    def paused(self) -> bool:
        return self.active and self.call.paused

    @property
    def speaking(self) -> bool:
        """The caller hears (or is about to hear) the agent now."""
        return self.active and not self.call.paused

    # -- control -------------------------------------------------------------------------------
    def say(self, text: str, *, kind: str = "turn", state: str | None = None,
            timeline: TurnTimeline | None = None) -> SpeechHandle:
        """Start speaking ``text``; whatever was still being said is interrupted. A hold stays:
        the new speech waits for it too."""
        held = self.call.paused
        self.interrupt()
        if held:
            self.call.pause()
        handle = SpeechHandle(text, split_sentences(text, min_chars=12), kind=kind, state=state, timeline=timeline)
        self.current = handle
        self.handles.append(handle)
        handle.task = asyncio.create_task(self._play(handle), name=f"say-{self.call.call_id}-{handle.id}")
        handle.task.add_done_callback(lambda _task: self._settle(handle))  # also if cancelled before it ran
        return handle

    def pause(self) -> bool:
        """Speech started over the agent: stop the wire now, keep the unheard audio queued."""
        if not self.speaking:
            return False
        self.call.pause()
        return True

    def hold(self) -> None:
        """The caller speaks while a reply is still being prepared: nothing plays until
        :meth:`resume` or :meth:`interrupt`."""
        self.call.pause()

    def resume(self) -> None:
        """It was only a backchannel: go on from the first unheard sample."""
        self.call.resume()

    def interrupt(self) -> SpeechHandle | None:
        """A real turn (or a new utterance): the rest of the current handle is never said."""
        handle = self.current
        if handle is None or handle.done():
            if self.call.paused:
                self.call.clear()  # a hold with nothing of ours queued
            return None
        handle.interrupt()
        self.call.clear()
        return handle

    async def aclose(self) -> None:
        """The call ended: stop everything and settle every handle's accounting."""
        for handle in self.handles:
            handle.interrupt()
        await asyncio.gather(*(h.task for h in self.handles if h.task), return_exceptions=True)

    # -- playout -------------------------------------------------------------------------------
    async def _play(self, handle: SpeechHandle) -> None:
        for sentence in handle.sentences:
            await self._synthesise(handle, sentence)
        handle.marker = self.call.enqueue(b"", mark=f"reply-{handle.id}")
        await handle.marker.wait()

    def _settle(self, handle: SpeechHandle) -> None:
        """Played to its end, cut, or interrupted: what the caller heard is final now."""
        if not handle.done():
            handle.mark_done()
            self.emit("agent_settled", handle=handle)

    async def _synthesise(self, handle: SpeechHandle, sentence: SpokenSentence) -> None:
        try:
            async for chunk in self.tts.stream(sentence.text, self.rate):
                if handle.timeline is not None and handle.timeline.tts_first is None:
                    handle.timeline.stamp("tts_first", asyncio.get_running_loop().time())
                first = not sentence.items
                item = self.call.enqueue(chunk, sample_rate=self.rate, text=sentence.text if first else None)
                if handle.timeline is not None and not handle.items:
                    item.on_start(lambda t, tl=handle.timeline: tl.stamp("first_audio", t))
                sentence.items.append(item)
                sentence.duration_s += len(chunk) / 2 / self.rate
                self.emit("agent_audio", item=item)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one sentence the voice cannot say must not silence the call
            self.emit("error", component="tts", message=f"tts: {exc!r}")
            log.error("TTS failed; sentence skipped",
                      extra={"context": {"call_id": self.call.call_id, "error": repr(exc), "sentence": sentence.text}})
