"""Barge-in bookkeeping (pipeline.turns), on stream times alone: which caller speech over the
agent is a turn and which a backchannel, by its length and then by its transcript."""

from __future__ import annotations

import pytest

from salesagent.pipeline.config import VoiceSettings
from salesagent.pipeline.turns import Decision, InterruptionOptions, TurnTaking, is_backchannel

OPTIONS = InterruptionOptions.from_settings(VoiceSettings())


def _over_agent(duration_s: float, text: str) -> tuple[Decision, Decision]:
    turns = TurnTaking(OPTIONS)
    assert turns.speech_started(10.0, agent_speaking=True) is Decision.INTERRUPT
    ended = turns.speech_ended(10.0, 10.0 + duration_s)
    return ended, turns.final(10.0, text)


@pytest.mark.parametrize("text", ["Да.", "Нет.", "Да", "Верно.", "Нет-нет.", "Конечно."])
def test_a_short_answer_over_the_question_resumes_the_agent_then_is_a_turn(text) -> None:
    assert _over_agent(0.35, text) == (Decision.BACKCHANNEL, Decision.TURN)


# "Собро." is how Whisper base wrote a festival "Угу." at 8 kHz: short and not an answer word.
@pytest.mark.parametrize("text", ["Угу.", "Ага.", "Да-да.", "Собро.", "Понятно?", "Ну."])
def test_a_short_stretch_without_an_answer_word_stays_a_backchannel(text) -> None:
    assert _over_agent(0.35, text) == (Decision.BACKCHANNEL, Decision.BACKCHANNEL)


@pytest.mark.parametrize("text, decision", [
    ("Угу, понятно.", Decision.BACKCHANNEL), ("Мне нужно МРТ колена", Decision.TURN), ("Собро, собро", Decision.TURN),
])
def test_longer_speech_over_the_agent_is_judged_by_its_words(text, decision) -> None:
    assert _over_agent(1.5, text) == (Decision.AWAIT_FINAL, decision)


def test_speech_while_the_agent_is_silent_is_always_a_turn() -> None:
    turns = TurnTaking(OPTIONS)
    assert turns.speech_started(3.0, agent_speaking=False) is Decision.NONE
    assert turns.speech_ended(3.0, 3.3) is Decision.AWAIT_FINAL
    assert turns.final(3.0, "Угу.") is Decision.TURN


def test_a_lone_yes_is_no_backchannel_but_yes_yes_is() -> None:
    assert not is_backchannel("Да.", OPTIONS.backchannel_words)
    assert is_backchannel("Да-да.", OPTIONS.backchannel_words)
