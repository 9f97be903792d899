"""The user-turn detector under every interleaving Hypothesis can find.

Utterances start and end, and their transcripts come late, early, out of order, empty, or never;
the detector is polled after each event and whenever its deadline passes, as the engine's timer
does. Whatever the order, every transcript reaches the dialog exactly once, in the order it came,
and the detector is left waiting for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesagent.pipeline.user_turn import (
    FixedEndpointing,
    TurnDeadlines,
    UserTurnDetector,
    build_endpointing,
)
from salesagent.speech.asr.streaming import Final

DEADLINES = TurnDeadlines(final_timeout_s=20.0, max_hold_s=15.0)


@dataclass(frozen=True)
class Utt:
    gap_s: float
    speak_s: float
    outcome: str  # "text", "empty", "never"
    asr_s: float


utterances = st.lists(
    st.builds(
        Utt,
        gap_s=st.floats(0.0, 3.0),
        speak_s=st.floats(0.05, 4.0),
        outcome=st.sampled_from(["text", "text", "empty", "never"]),
        asr_s=st.floats(0.0, 25.0),
    ),
    min_size=1,
    max_size=7,
)


def _events(utts: list[Utt]) -> list[tuple[float, int, str, object]]:
    """(time, order, kind, payload) in time order; ties keep start < end < result."""
    events, t = [], 0.0
    for n, u in enumerate(utts):
        start = t + u.gap_s
        end = start + u.speak_s
        events.append((start, 0, "start", start))
        events.append((end, 1, "end", start))
        if u.outcome == "text":
            events.append((end + u.asr_s, 2, "final", Final(text=f"w{n}", start=start, end=end, confidence=0.9)))
        elif u.outcome == "empty":
            events.append((end + u.asr_s, 2, "empty", start))
        t = end
    return sorted(events, key=lambda e: (e[0], e[1]))


def _run(detector: UserTurnDetector, events) -> list[tuple[float, list[str]]]:
    turns: list[tuple[float, list[str]]] = []

    def poll(now: float) -> None:
        turn = detector.poll(now)
        if turn is not None:
            turns.append((now, [f.text for f in turn.finals]))

    def timers_until(limit: float) -> None:
        while (deadline := detector.deadline) is not None and deadline <= limit:
            poll(deadline + 1e-3)

    for now, _order, kind, payload in events:
        timers_until(now)
        if kind == "start":
            detector.speech_started(now, payload)
        elif kind == "end":
            detector.speech_ended(now, payload)
        elif kind == "final":
            detector.final(now, payload)
        else:
            detector.resolved_without_words(now, payload)
        poll(now)
    timers_until(float("inf"))
    return turns


@settings(max_examples=400, deadline=None)
@given(utterances, st.sampled_from([0.0, 0.3, 1.0]))
def test_every_transcript_reaches_the_dialog_once_in_order_and_nothing_is_left_waiting(utts, hold_s) -> None:
    events = _events(utts)
    detector = UserTurnDetector(FixedEndpointing(hold_s), DEADLINES)
    turns = _run(detector, events)

    arrived = [e[3].text for e in events if e[2] == "final"]
    committed = [text for _t, texts in turns for text in texts]
    assert committed == arrived
    assert not detector.waiting and not detector.holding and detector.deadline is None


@settings(max_examples=200, deadline=None)
@given(utterances)
def test_a_turn_waits_for_speech_in_progress_unless_held_too_long(utts) -> None:
    """Committed only when nothing is pending, or once the hold limit forces it."""
    events = _events(utts)
    detector = UserTurnDetector(FixedEndpointing(0.0), DEADLINES)
    first_final_at: dict[str, float] = {e[3].text: e[0] for e in events if e[2] == "final"}
    pending_at: list[tuple[float, float]] = []  # (from, to) intervals where an utterance owes a result
    for u_start, _o, kind, payload in events:
        if kind == "start":
            ends = [e[0] for e in events if e[2] == "end" and e[3] == payload]
            results = [e[0] for e in events if e[2] in ("final", "empty") and _start_of(e) == payload]
            until = min([*results, ends[0] + DEADLINES.final_timeout_s])  # answered, or given up
            pending_at.append((u_start, until))
    for at, texts in _run(detector, events):
        forced = at >= first_final_at[texts[0]] + DEADLINES.max_hold_s
        busy = any(lo <= at < hi - 1e-9 for lo, hi in pending_at)
        assert forced or not busy, (at, texts)


def _start_of(event) -> float:
    payload = event[3]
    return payload.start if isinstance(payload, Final) else payload


def test_a_final_after_its_deadline_is_still_a_turn() -> None:
    detector = UserTurnDetector(FixedEndpointing(0.0), DEADLINES)
    detector.speech_started(0.0, 0.0)
    detector.speech_ended(1.0, 0.0)
    assert detector.poll(30.0) is None and not detector.waiting  # given up on it
    detector.final(31.0, Final(text="поздно", start=0.0, end=1.0, confidence=0.9))
    turn = detector.poll(31.0)
    assert turn is not None and turn.text == "поздно"


def test_unknown_endpointing_strategy_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown endpointing strategy 'speculative'; known: fixed"):
        build_endpointing("speculative", 0.0)
