"""Persona data: the bundled personas load, and a wrong phone read-back is corrected."""

from __future__ import annotations

import pytest

from salesagent.demo.persona import PersonaError, load_persona, persona_names


@pytest.mark.parametrize("name", ["anna", "quick"])
def test_bundled_personas_load_with_a_line_for_the_key_questions(name: str) -> None:
    persona = load_persona(name)
    for state in ("GREETING", "ASK_PHONE", "ASK_AGE_WEIGHT", "CHECK_CONTRAINDICATIONS", "CONFIRM_APPOINTMENT"):
        assert persona.line(state, 0), state
    assert persona.phone == "+79161234567" and persona.phone_correction
    assert set(persona_names()) >= {"anna", "quick"}


def test_a_wrong_read_back_is_corrected_and_a_right_one_confirmed() -> None:
    persona = load_persona("anna")
    wrong = persona.correction_for("CONFIRM_APPOINTMENT", "+79161234560", 0)
    assert wrong is not None and wrong.startswith("Нет")
    assert persona.correction_for("CONFIRM_APPOINTMENT", "+79161234567", 0) is None
    assert persona.correction_for("ASK_AGE_WEIGHT", "+79161234560", 0) is None  # only at the read-back
    assert persona.correction_for("CONFIRM_APPOINTMENT", "+79161234560", 5) == persona.phone_correction[-1]
    assert wrong in persona.all_lines()  # rendered ahead with the other lines


def test_unknown_persona_is_one_clear_error() -> None:
    with pytest.raises(PersonaError, match="no persona 'nobody'"):
        load_persona("nobody")
