"""The user-turn detector: VAD events and ASR results of one call joined into caller turns.

A caller turn is every final transcript from the first one until the caller has been quiet for
the endpointing strategy's hold and no utterance still waits for its transcript. Deadlines make
sure no input sequence can leave it waiting:

* an utterance that ended but whose result never arrives is given up after ``final_timeout_s``
  (the transcriber normally says so itself with ``Discarded``);
* a turn is committed at the latest ``max_hold_s`` after its first final, even if the line keeps
  making a sound (a television, a caller who never pauses).

The detector is pure bookkeeping: the engine passes the loop time in and arms one timer on
:attr:`UserTurnDetector.deadline`, so tests drive it without a clock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from salesagent.speech.asr.streaming import Final

log = logging.getLogger(__name__)


def utterance_key(start: float) -> float:
    """Utterances are named by their start in stream seconds, rounded as the transcriber does."""
    return round(start, 3)


@dataclass(frozen=True, slots=True)
class UserTurn:
    """What the caller said in one turn: the joined text and the finals it came from."""

    finals: tuple[Final, ...]

    @property
    def text(self) -> str:
        return " ".join(f.text for f in self.finals)

    @property
    def first(self) -> Final:
        return self.finals[0]


class EndpointingStrategy(Protocol):
    """How long after the caller's last sound or final the turn is taken as finished."""

    def hold_s(self, finals: Sequence[Final]) -> float: ...


@dataclass(frozen=True, slots=True)
class FixedEndpointing:
    """The same hold after every final (the VAD's min_silence_ms already ended the utterance)."""

    delay_s: float = 0.0

    def hold_s(self, finals: Sequence[Final]) -> float:
        return self.delay_s


ENDPOINTING = {"fixed": FixedEndpointing}


def build_endpointing(name: str, delay_s: float) -> EndpointingStrategy:
    """The strategy configured by ``SALESAGENT_VOICE_ENDPOINTING``."""
    try:
        return ENDPOINTING[name](delay_s)
    except KeyError:
        raise ValueError(f"unknown endpointing strategy {name!r}; known: {', '.join(ENDPOINTING)}") from None


@dataclass(frozen=True, slots=True)
class TurnDeadlines:
    final_timeout_s: float = 20.0
    max_hold_s: float = 15.0


@dataclass
class UserTurnDetector:
    """Caller turns of one call. Feed it events with the loop time; ask :meth:`poll` for a turn."""

    endpointing: EndpointingStrategy = field(default_factory=FixedEndpointing)
    deadlines: TurnDeadlines = field(default_factory=TurnDeadlines)
    _open: float | None = None  # utterance the caller is speaking now
    _awaiting: dict[float, float] = field(default_factory=dict)  # ended utterance -> when it ended
    _finals: list[Final] = field(default_factory=list)
    _first_at: float | None = None
    _last_activity: float = 0.0

    # -- inputs --------------------------------------------------------------------------------
    def speech_started(self, now: float, start: float) -> None:
        self._open = utterance_key(start)
        self._last_activity = now

    def speech_ended(self, now: float, start: float) -> None:
        key = utterance_key(start)
        if self._open == key:
            self._open = None
        self._awaiting[key] = now
        self._last_activity = now

    def final(self, now: float, final: Final) -> None:
        """A transcript. One for the utterance in progress is a long monologue cut by the ASR."""
        self._awaiting.pop(utterance_key(final.start), None)
        self._finals.append(final)
        if self._first_at is None:
            self._first_at = now
        self._last_activity = now

    def resolved_without_words(self, now: float, start: float) -> None:
        """The utterance gave no text for the dialog (noise, an empty decode, a backchannel)."""
        self._awaiting.pop(utterance_key(start), None)
        if self._open == utterance_key(start):
            self._open = None

    # -- outputs -------------------------------------------------------------------------------
    @property
    def waiting(self) -> bool:
        """Caller speech is in progress or an utterance still owes its transcript."""
        return self._open is not None or bool(self._awaiting)

    @property
    def holding(self) -> bool:
        """Finals are collected for a turn not yet committed."""
        return bool(self._finals)

    @property
    def deadline(self) -> float | None:
        """Loop time at which :meth:`poll` may give a different answer without new input."""
        times = [ended + self.deadlines.final_timeout_s for ended in self._awaiting.values()]
        if self._finals:
            assert self._first_at is not None
            times.append(self._first_at + self.deadlines.max_hold_s)
            if not self.waiting:
                times.append(self._last_activity + self.endpointing.hold_s(self._finals))
        return min(times) if times else None

    def poll(self, now: float) -> UserTurn | None:
        """The finished turn, if one is finished at ``now`` (then the detector starts afresh)."""
        self._expire(now)
        if not self._finals:
            return None
        assert self._first_at is not None
        forced = now >= self._first_at + self.deadlines.max_hold_s
        quiet = not self.waiting and now >= self._last_activity + self.endpointing.hold_s(self._finals)
        if not (forced or quiet):
            return None
        turn = UserTurn(tuple(self._finals))
        self._finals.clear()
        self._first_at = None
        return turn

    def _expire(self, now: float) -> None:
        for key, ended in list(self._awaiting.items()):
            if now >= ended + self.deadlines.final_timeout_s:
                del self._awaiting[key]
                log.warning("no transcript for an utterance; given up", extra={"context": {"start": key}})
