"""Against a real llama.cpp server (Qwen2.5-Coder-0.5B, CPU). Nothing here asserts on latency or on
what the small model understood; it asserts on what the code guarantees whatever the model says."""

from __future__ import annotations

import pytest

from salesagent.dialog.slots import DialogSlots
from salesagent.dialog.states import State
from salesagent.llm.extractor import LLMExtractor
from salesagent.llm.grounding import check_grounded
from salesagent.llm.hybrid import HybridExtractor
from salesagent.llm.prompts import extraction_model
from salesagent.llm.rephrase import GroundedRephraser

pytestmark = pytest.mark.slow

UTTERANCES = [
    (State.ASK_CLIENT_NAME, ("client_name",), "ну меня это самое ольгой зовут"),
    (State.ASK_SYMPTOMS, ("symptoms",), "спина болит третью неделю стреляет в ногу"),
    (State.ASK_AGE_WEIGHT, ("age", "weight"), "мне сорок пять вешу под сто"),
    (State.CHECK_CONTRAINDICATIONS, (), "пластина в ноге стоит металлическая а так ничего"),
    (State.ASK_APPOINTMENT_DATE, (), "давайте в пятницу часов в десять а сколько стоит"),
]


@pytest.fixture(scope="module")
def real_extractor(real_settings, profile):
    extractor = LLMExtractor(real_settings)
    assert extractor.warm_up(profile), "the real server did not answer the warm-up request"
    return extractor


@pytest.mark.parametrize(("state", "expected", "text"), UTTERANCES)
def test_output_is_schema_valid_every_time(real_extractor, make_context, profile, state, expected, text):
    result = real_extractor.extract(text, make_context(state, expected=expected))
    assert real_extractor.last_raw is not None, "no answer from the real server"
    extraction_model(profile).model_validate_json(real_extractor.last_raw)  # raises if not schema-valid
    assert result.source == "llm"
    assert result.body_part is None or result.body_part in profile.body_parts
    assert set(result.contraindications) <= {c.id for c in profile.contraindications}


def test_hybrid_with_real_rules_and_real_llm(real_extractor, rules, make_context, profile):
    text = "меня зовут ольга мой телефон восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь"
    context = make_context(State.ASK_PHONE, expected=("phone",))
    by_rules = rules.extract(text, context)
    hybrid = HybridExtractor(rules, real_extractor, budget_s=real_extractor.settings.budget_s, llm_when="always")
    result = hybrid.extract(text, context)
    assert real_extractor.last_raw is not None
    assert result.phone == by_rules.phone == "+79161234567"
    for field in ("client_name", "symptoms", "body_part", "modality"):
        if getattr(by_rules, field) is not None:
            assert getattr(result, field) == getattr(by_rules, field)


def test_real_rephrase_is_grounded_or_the_template(real_settings, profile):
    rephraser = GroundedRephraser(real_settings)
    slots = DialogSlots(client_name="Ольга")
    template = "Ольга, расскажите, пожалуйста, что вас беспокоит?"
    out = rephraser.rephrase("ASK_SYMPTOMS", template, slots, profile, [("agent", "Как к вам обращаться?"),
                                                                          ("user", "ольга")])
    assert out == template or check_grounded(out, profile, slots, reference=template) == []
    assert rephraser.last_reason in (None, "ungrounded", "question_dropped", "not_russian", "foreign_text")
