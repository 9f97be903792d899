"""LLM and hybrid extractors over the wire: profile validation, merge rules, the budget, context."""

from __future__ import annotations

import json
import time

from prometheus_client import REGISTRY

from salesagent.dialog.extract.base import DateRequest, Extraction, Intent
from salesagent.dialog.states import State
from salesagent.llm.extractor import LLMExtractor, validate_against_profile
from salesagent.llm.hybrid import HybridExtractor, merge_extractions
from salesagent.llm.prompts import approx_tokens, trim_history


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_values_the_profile_lacks_are_rejected(peer, make_context):
    peer.script = [{"content": json.dumps({"body_part": "liver", "modality": "pet", "client_name": "Ольга",
                                           "contraindications": ["pacemaker", "tattoo"], "faq": ["price", "horoscope"],
                                           "intents": ["yes", "dance"], "phone": "12345", "age": 430})}]
    before = metric("salesagent_llm_rejected_values_total", field="contraindications", variant="baseline")
    result = LLMExtractor(peer.settings()).extract("я ольга", make_context())
    assert result.body_part is None and result.modality is None
    assert result.contraindications == ["pacemaker"]
    assert result.faq == ["price"]
    assert result.intents == {Intent.YES}
    assert result.phone is None and result.age is None
    assert result.client_name == "Ольга"
    assert result.source == "llm"
    assert metric("salesagent_llm_rejected_values_total", field="contraindications", variant="baseline") == before + 1


def test_valid_values_are_normalised(profile):
    part = next(iter(profile.body_parts))
    result = validate_against_profile({"phone": "8 916 123-45-67", "client_name": "ольга петровна", "body_part": part,
                                       "day": "2026-11-27", "time": "10:30", "weight": 80}, profile)
    assert result.phone == "+79161234567"
    assert result.client_name == "Ольга"
    assert result.body_part == part
    assert result.date is not None and result.date.day.isoformat() == "2026-11-27"
    assert result.date.at is not None and result.date.at.strftime("%H:%M") == "10:30"
    assert result.weight == 80


def test_garbage_answer_gives_an_empty_extraction(peer, make_context):
    peer.script = [{"content": "Конечно! Вот ответ: имя Ольга"}]
    result = LLMExtractor(peer.settings()).extract("меня зовут ольга", make_context())
    assert result.is_empty() and result.source == "llm"


def test_pure_llm_times_out_to_empty_within_budget(peer, make_context):
    peer.script = [{"sleep": 3.0, "content": json.dumps({"client_name": "Ольга"})}]
    started = time.monotonic()
    result = LLMExtractor(peer.settings(budget_ms=300)).extract("меня зовут ольга", make_context())
    assert time.monotonic() - started < 1.5
    assert result.is_empty()


def test_hybrid_falls_back_to_rules_within_budget(peer, make_context, rules):
    peer.script = [{"sleep": 3.0, "content": json.dumps({"client_name": "Ирина", "age": 99})}]
    text = "меня зовут ольга мне сорок пять лет"
    context = make_context(State.ASK_CLIENT_NAME, expected=("client_name",))
    expected = rules.extract(text, context)
    assert not expected.is_empty()
    hybrid = HybridExtractor(rules, LLMExtractor(peer.settings(budget_ms=300)), budget_s=0.3, llm_when="always")
    started = time.monotonic()
    result = hybrid.extract(text, context)
    assert time.monotonic() - started < 1.5
    assert result == expected
    assert len(peer.bodies) == 1  # the LLM was asked, and its late answer was not used


def test_hybrid_merge_through_the_wire(peer, make_context, rules, profile):
    part = next(k for k in profile.body_parts)
    peer.script = [{"content": json.dumps({"client_name": "Ирина", "age": 99, "phone": "89990001122",
                                           "body_part": part, "symptoms": "ноет"})}]
    text = "мне сорок пять лет"
    context = make_context(State.ASK_AGE_WEIGHT, expected=("age", "weight"))
    by_rules = rules.extract(text, context)
    assert by_rules.age is not None
    result = HybridExtractor(rules, LLMExtractor(peer.settings()), budget_s=0.8, llm_when="always").extract(
        text, context)
    assert result.age == by_rules.age  # rules win on ages
    assert result.phone == by_rules.phone  # never the LLM's unverified phone
    if by_rules.body_part is None:
        assert result.body_part == part
    assert result.source == "hybrid"


def test_hybrid_skips_llm_when_rules_filled_the_expected_slots(peer, make_context, rules):
    text = "мне сорок пять лет вес восемьдесят"
    context = make_context(State.ASK_AGE_WEIGHT, expected=("age", "weight"))
    by_rules = rules.extract(text, context)
    result = HybridExtractor(rules, LLMExtractor(peer.settings()), budget_s=0.8, llm_when="gaps").extract(
        text, context)
    if by_rules.age is not None and by_rules.weight is not None:
        assert peer.bodies == []
        assert result == by_rules
    else:
        assert len(peer.bodies) == 1


def test_merge_rules():
    date = DateRequest(day=None, at=None, part_of_day="morning")
    rules = Extraction(phone="+79161234567", age=45, date=date, intents={Intent.YES}, source="rules")
    llm = Extraction(phone="+79990000000", age=54, weight=70, client_name="Ольга", symptoms="болит колено",
                     body_part="knee", contraindications=["pacemaker"], intents={Intent.NO}, source="llm")
    merged, from_llm = merge_extractions(rules, llm)
    assert (merged.phone, merged.age, merged.date) == (rules.phone, rules.age, rules.date)
    assert merged.weight is None  # a verifiable format the rules did not find stays empty
    assert (merged.client_name, merged.symptoms, merged.body_part) == ("Ольга", "болит колено", "knee")
    assert merged.intents == {Intent.YES}  # lists/intents: the rules' reading when they have one
    assert merged.contraindications == ["pacemaker"]  # ... and the LLM's when they have none
    assert set(from_llm) == {"client_name", "symptoms", "body_part", "contraindications"}
    assert merged.source == "hybrid"
    same, none = merge_extractions(rules, Extraction(source="llm"))
    assert none == [] and same.source == "rules"


def test_rules_extractor_failure_does_not_end_the_turn(peer, make_context):
    class Broken:
        name = "broken"

        def extract(self, text, context):
            raise RuntimeError("boom")

    peer.script = [{"content": json.dumps({"client_name": "Ольга"})}]
    result = HybridExtractor(Broken(), LLMExtractor(peer.settings()), budget_s=0.8).extract("ольга", make_context())
    assert result.client_name == "Ольга"


def test_prompt_carries_history_slots_and_a_static_prefix(peer, make_context):
    peer.script = [{"content": "{}"}]
    history = tuple(("agent" if i % 2 else "user", f"реплика номер {i}") for i in range(40))
    extractor = LLMExtractor(peer.settings(history_messages=14))
    extractor.extract("да", make_context(history=history), slots={"client_name": "Ольга", "age": 45})
    extractor.extract("нет", make_context(State.ASK_PHONE), slots=None)
    first, second = peer.bodies[0]["messages"], peer.bodies[1]["messages"]
    assert first[:-1] == second[:-1]  # the static head is byte-identical: prefix cache hits
    turn = first[-1]["content"]
    assert "реплика номер 39" in turn and "реплика номер 26" in turn
    assert "реплика номер 25" not in turn  # only the last 14 messages
    assert "Ольга" in turn and "45" in turn
    assert "2026-11-25" in turn  # the frozen clock's date, for relative dates


def test_history_trimmed_to_token_budget():
    history = [("user", "слово " * 100) for _ in range(20)]
    kept = trim_history(history, max_messages=20, token_budget=600)
    assert 0 < len(kept) < 20
    assert sum(approx_tokens(t) + 2 for _, t in kept) <= 600
    assert kept[-1] == history[-1]
