"""Turn-taking: when the caller's speech interrupts the agent, and when it is only "угу".

Modelled on LiveKit's ``voice/turn.py`` options, adapted to a CPU ASR whose partials come ~1 s
late: the interruption decision cannot wait for words, so it is made on the VAD and corrected
afterwards.

* The caller starts talking while the agent talks: the agent stops (``call.clear()``) as soon as
  the speech has lasted ``min_interruption_ms`` beyond the VAD's own ``min_speech_ms`` (0 by
  default, so the caller hears the agent stop within ~150 ms).
* The speech turns out to be a backchannel (shorter than ``backchannel_max_ms``, or its final
  transcript made only of words such as "угу", "ага", "да-да", "понятно"): it is not a turn, the
  dialog never sees it, and the agent goes on from the first sample the caller did not hear.
  Length alone only resumes the agent at once: when the transcript of a short stretch holds an
  answer word ("Да.", "Нет.", said over the end of "... Верно?"), it is a turn after all. Judged by
  length for good, a quick "Да." over the question was lost, the caller waited for the agent and
  the agent asked "Вы меня слышите?" (three calls of bench/bench_cluster.py, 2026-12-04).
* Otherwise it is a real turn: the agent's unplayed text is dropped (counted as not said) and the
  caller's words go to the dialog.

Everything here is pure bookkeeping on stream times, so it is tested without audio.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from salesagent.pipeline.config import VoiceSettings

_WORD = re.compile(r"[а-яa-z0-9]+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class InterruptionOptions:
    """Typed barge-in policy (``VoiceSettings`` builds it from the environment)."""

    min_interruption_ms: int = 0
    backchannel_max_ms: int = 600
    backchannel_words: frozenset[str] = frozenset({"угу", "ага", "да-да", "так", "понятно"})
    short_answer_words: frozenset[str] = frozenset({"да", "нет"})
    resume_after_backchannel: bool = True

    @classmethod
    def from_settings(cls, settings: VoiceSettings) -> InterruptionOptions:
        return cls(
            min_interruption_ms=settings.min_interruption_ms,
            backchannel_max_ms=settings.backchannel_max_ms,
            backchannel_words=settings.backchannels,
            short_answer_words=settings.short_answers,
            resume_after_backchannel=settings.resume_after_backchannel,
        )


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("ё", "е"))


def is_backchannel(text: str, words: frozenset[str]) -> bool:
    """True when ``text`` is made only of backchannel phrases ("угу", "ага ага", "да-да, понятно").

    Phrases are matched whole: with "да-да" in the list a lone "да" is still an answer.
    """
    tokens = _tokens(text)
    if not tokens:
        return False
    phrases = {tuple(_tokens(w)) for w in words if _tokens(w)}
    longest = max((len(p) for p in phrases), default=0)
    reach = [False] * (len(tokens) + 1)
    reach[0] = True
    for i in range(len(tokens)):
        if not reach[i]:
            continue
        for n in range(1, min(longest, len(tokens) - i) + 1):
            if tuple(tokens[i : i + n]) in phrases:
                reach[i + n] = True
    return reach[len(tokens)]


class Decision(enum.StrEnum):
    NONE = "none"
    INTERRUPT = "interrupt"  # stop the agent's audio now
    BACKCHANNEL = "backchannel"  # not a turn; resume the agent if it was stopped
    AWAIT_FINAL = "await_final"  # decide on the transcript
    TURN = "turn"  # the caller's words go to the dialog


@dataclass(slots=True)
class Utterance:
    """One stretch of caller speech, keyed by its start in stream seconds."""

    start: float
    over_agent: bool  # the agent was talking when it began
    interrupted: bool = False  # it stopped the agent
    end: float | None = None
    backchannel: bool = False
    short: bool = False  # judged a backchannel by its length; its transcript may still make it a turn

    @property
    def duration_ms(self) -> float | None:
        return None if self.end is None else (self.end - self.start) * 1000


@dataclass
class TurnTaking:
    """Barge-in decisions for one call. Times are stream seconds from the VAD."""

    options: InterruptionOptions = field(default_factory=InterruptionOptions)
    utterances: dict[float, Utterance] = field(default_factory=dict)
    _open: Utterance | None = None

    @staticmethod
    def key(start: float) -> float:
        return round(start, 3)

    def speech_started(self, start: float, agent_speaking: bool) -> Decision:
        utt = Utterance(start=self.key(start), over_agent=agent_speaking)
        self.utterances[utt.start] = utt
        self._open = utt
        if agent_speaking and self.options.min_interruption_ms == 0:
            utt.interrupted = True
            return Decision.INTERRUPT
        return Decision.NONE

    def speech_continues(self, position: float, agent_speaking: bool) -> Decision:
        """Called as audio arrives: interrupts once the open speech is long enough."""
        utt = self._open
        if utt is None or utt.interrupted or not agent_speaking:
            return Decision.NONE
        if (position - utt.start) * 1000 >= self.options.min_interruption_ms:
            utt.interrupted = True
            utt.over_agent = True
            return Decision.INTERRUPT
        return Decision.NONE

    def speech_ended(self, start: float, end: float) -> Decision:
        utt = self.utterances.get(self.key(start))
        if utt is None:  # speech began before we were listening
            utt = self.utterances.setdefault(self.key(start), Utterance(start=self.key(start), over_agent=False))
        utt.end = end
        if self._open is utt:
            self._open = None
        if utt.over_agent and utt.duration_ms is not None and utt.duration_ms < self.options.backchannel_max_ms:
            utt.backchannel = utt.short = True
            return Decision.BACKCHANNEL
        return Decision.AWAIT_FINAL

    def final(self, start: float, text: str) -> Decision:
        """The transcript of an utterance: a turn for the dialog, or a backchannel to ignore."""
        utt = self.utterances.get(self.key(start))
        no_answer = not _tokens(text) or is_backchannel(text, self.options.backchannel_words)
        if utt is not None and utt.over_agent and no_answer:
            utt.backchannel = True
            return Decision.BACKCHANNEL
        if utt is not None and utt.backchannel:
            if not (utt.short and self.options.short_answer_words.intersection(_tokens(text))):
                return Decision.BACKCHANNEL
            utt.backchannel = False  # short, but an answer: the agent resumed; now it listens
        return Decision.TURN
