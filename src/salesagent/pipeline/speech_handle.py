"""A speech handle: one agent utterance on its way to the caller, as futures.

Modelled on LiveKit Agents' ``voice/speech_handle.py``: :meth:`SpeechHandle.interrupt` stops it
(synthesis and playout), :meth:`SpeechHandle.wait_for_playout` waits until it is over, played or
cut. What the caller heard is counted from the wire: per sentence, the seconds the play clock
passed, so an interrupted reply records the sentences actually heard and nothing more.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from salesagent.pipeline.latency import TurnTimeline
from salesagent.transport.playback import PlaybackItem, PlaybackState

_handle_ids = itertools.count(1)


@dataclass(eq=False)
class SpokenSentence:
    """One sentence of a reply and the playback items its audio went out in."""

    text: str
    items: list[PlaybackItem] = field(default_factory=list)
    duration_s: float = 0.0  # audio synthesised for it so far

    @property
    def heard_s(self) -> float:
        return sum(i.heard_s for i in self.items)


class SpeechHandle:
    """One agent utterance (a reply, a silence prompt, a goodbye)."""

    def __init__(
        self, text: str, sentences: list[str], *, kind: str = "turn", state: str | None = None,
        timeline: TurnTimeline | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.id = next(_handle_ids)
        self.text = text
        self.kind = kind
        self.state = state
        self.timeline = timeline
        self.sentences = [SpokenSentence(s) for s in sentences]
        self.marker: PlaybackItem | None = None
        self.task: asyncio.Task[None] | None = None
        self._interrupted = loop.create_future()
        self._done: asyncio.Future[None] = loop.create_future()

    # -- state ---------------------------------------------------------------------------------
    @property
    def interrupted(self) -> bool:
        return self._interrupted.done()

    def done(self) -> bool:
        return self._done.done()

    @property
    def items(self) -> list[PlaybackItem]:
        return [i for s in self.sentences for i in s.items]

    @property
    def started(self) -> bool:
        """Some of it reached the caller's ear."""
        return any(i.play_start is not None for i in self.items)

    # -- control -------------------------------------------------------------------------------
    def interrupt(self) -> SpeechHandle:
        """Stop it: nothing more is synthesised or queued. The caller side clears the wire."""
        if self.done() or self.interrupted:
            return self
        self._interrupted.set_result(None)
        if self.task is not None:
            self.task.cancel()
        return self

    async def wait_for_playout(self) -> None:
        """Until it was played to the end, cut, or interrupted."""
        await asyncio.shield(self._done)

    def mark_done(self) -> None:
        if not self._done.done():
            self._done.set_result(None)

    # -- what the caller heard -----------------------------------------------------------------
    @property
    def heard_fraction(self) -> float:
        total = sum(s.duration_s for s in self.sentences)
        if total == 0:
            return 0.0 if self.interrupted else 1.0
        heard = sum(min(s.heard_s, s.duration_s) for s in self.sentences)
        return round(min(1.0, heard / total), 3)

    @property
    def cut(self) -> bool:
        """Not all of it was heard: interrupted, or its audio cleared from the wire."""
        cleared = any(i.state is PlaybackState.CLEARED for i in self.items)
        return (self.interrupted or cleared) and self.heard_fraction < 0.999

    def heard_text(self) -> str:
        """The sentences the caller heard; a sentence cut midway by the share of its words."""
        heard: list[str] = []
        for s in self.sentences:
            if s.duration_s and s.heard_s >= s.duration_s * 0.98:
                heard.append(s.text)
                continue
            if s.heard_s > 0 and s.duration_s:
                words = s.text.split()
                heard.append(" ".join(words[: int(len(words) * s.heard_s / s.duration_s)]) + "…")
            break
        return " ".join(heard).strip()
