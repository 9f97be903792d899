"""Whisper's prompt follows the question: built from the profile, bounded, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesagent.clinic.profile import load_profile
from salesagent.speech.asr.prompt import QuestionPrompts, last_sentence, study_areas

PROFILE = load_profile()
PROMPTS = QuestionPrompts(PROFILE, 300)


def test_every_study_area_is_in_the_prompt_of_the_study_question() -> None:
    prompt = PROMPTS.for_question("ASK_STUDY_REQUEST", "Какое исследование вам нужно?")
    for study in PROFILE.studies:
        last_word = study.name.split()[-1]
        assert last_word in prompt, study.name


def test_areas_sharing_an_ending_are_joined() -> None:
    areas = study_areas(PROFILE)
    assert len(areas) < len({s.name.split(" ", 1)[1] for s in PROFILE.studies})
    assert any("шейного" in a and "пояснично-крестцового" in a and a.endswith("позвоночника") for a in areas)


def test_a_state_without_a_hint_gets_the_clinic_prompt() -> None:
    assert PROMPTS.for_question("PROVIDE_ADDRESS", "Наш адрес: ...") == PROMPTS.fallback
    assert PROMPTS.for_question(None) == PROMPTS.fallback


def test_the_question_asked_closes_the_prompt() -> None:
    reply = "МРТ коленного сустава стоит 4500 рублей. Как к вам обращаться?"
    prompt = PROMPTS.for_question("ASK_CLIENT_NAME", reply)
    assert prompt.endswith("Как к вам обращаться?") and "4500" not in prompt
    assert last_sentence("Да! Хорошо. Когда удобно?") == "Когда удобно?"


@settings(max_examples=300, deadline=None)
@given(state=st.sampled_from([*sorted(PROMPTS.states), "END", "", "nonsense"]), question=st.text(max_size=600))
def test_prompts_are_bounded_for_any_question(state: str, question: str) -> None:
    prompt = PROMPTS.for_question(state, question)
    assert 0 < len(prompt) <= 300


@pytest.mark.parametrize(("text", "echo"), [
    ("Меня зовут Татьяна.", True),  # Whisper closing a cut "Меня зовут," from the prompt
    ("Запишите на Сергея.", True),
    ("Меня зовут Ольга.", False),
    ("Татьяна.", False),  # the first word of a sentence is capitalised anyway
    ("Да, подходит.", False),
    ("", False),
])
def test_a_name_the_prompt_supplied_is_an_echo(text: str, echo: bool) -> None:
    from salesagent.speech.asr.prompt import echoes_prompt

    prompt = "Меня зовут Татьяна Николаевна. Запишите на Сергея, фамилия Смирнов."
    assert echoes_prompt(text, prompt) is echo
    assert echoes_prompt(text, None) is False
