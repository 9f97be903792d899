"""Whisper carries the "т" of "зовут" over to a name that begins with a vowel ("Меня зовут Танна"
for "Меня зовут Анна": the demo's patient was booked as "Танна"). The name is read back without
it; names that really begin with "т" are left alone."""

from __future__ import annotations

import pytest

from salesagent.dialog.extract.names import extract_name
from salesagent.dialog.extract.text import Utterance

VOWEL_NAMES = ["Анна", "Ольга", "Ирина", "Елена", "Инна", "Оксана", "Алина", "Игорь", "Олег", "Антон",
               "Андрей", "Алексей", "Евгений", "Иван", "Эльвира", "Ульяна", "Юлия", "Элеонора", "Илья"]
T_NAMES = ["Тамара", "Татьяна", "Тимур", "Тарас", "Тимофей", "Таисия", "Тихон", "Тина", "Таня", "Тоня", "Томас"]


@pytest.mark.parametrize("name", VOWEL_NAMES)
@pytest.mark.parametrize("expected", [True, False])
def test_the_carried_over_t_is_dropped(name, expected) -> None:
    heard = f"Меня зовут Т{name[0].lower()}{name[1:]}."
    assert extract_name(Utterance(heard), expected=expected, use_ner=True) == name


@pytest.mark.parametrize("name", T_NAMES)
def test_names_that_begin_with_t_stay(name) -> None:
    assert extract_name(Utterance(f"Меня зовут {name}."), expected=True, use_ner=True) == name


@pytest.mark.parametrize("name", VOWEL_NAMES[:6])
def test_a_name_heard_right_stays(name) -> None:
    assert extract_name(Utterance(f"меня зовут {name.lower()}"), expected=True, use_ner=True) == name
