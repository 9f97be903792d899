"""GroundedRephraser over the wire, and A/B prompt variants."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from prometheus_client import REGISTRY

from salesagent.dialog.slots import DialogSlots
from salesagent.llm.rephrase import GroundedRephraser
from salesagent.llm.variants import VariantsError, VariantSet, assign_variant, load_variants

TEMPLATE = "Подскажите, пожалуйста, как к вам обращаться?"


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_disabled_returns_the_template(peer, profile):
    rephraser = GroundedRephraser(peer.settings(rephrase=False))
    assert rephraser.rephrase("ASK_CLIENT_NAME", TEMPLATE, DialogSlots(), profile, []) == TEMPLATE
    assert peer.bodies == []


def test_mandatory_lines_are_never_rephrased(peer, profile):
    line = profile.templates.states["CHECK_CONTRAINDICATIONS"][0]
    peer.script = [{"content": "Скажите, у вас всё хорошо?"}]
    assert GroundedRephraser(peer.settings()).rephrase("CHECK_CONTRAINDICATIONS", line, DialogSlots(),
                                                       profile, []) == line
    assert peer.bodies == []


def test_grounded_rephrase_is_used(peer, profile):
    peer.script = [{"content": "«Как мне к вам обращаться?»"}]
    out = GroundedRephraser(peer.settings()).rephrase("ASK_CLIENT_NAME", TEMPLATE, DialogSlots(), profile, [])
    assert out == "Как мне к вам обращаться?"


def test_hallucinated_price_falls_back_to_the_template(peer, profile):
    knee = profile.find_study("mri", "knee")
    template = f"{knee.name} стоит {knee.price} рублей. Записать вас?"
    stage = "RECOMMEND_STUDY"
    peer.script = [{"content": f"{knee.name} стоит всего {knee.price - 700} рублей! Записать вас?"}]
    before = metric("salesagent_llm_fallbacks_total", operation="rephrase", variant="baseline", reason="ungrounded")
    rephraser = GroundedRephraser(peer.settings())
    assert rephraser.rephrase(stage, template, DialogSlots(), profile, []) == template
    assert rephraser.last_reason == "ungrounded"
    assert any(str(knee.price - 700) in v for v in rephraser.last_violations)
    after = metric("salesagent_llm_fallbacks_total", operation="rephrase", variant="baseline", reason="ungrounded")
    assert after == before + 1


def test_dropped_question_falls_back(peer, profile):
    peer.script = [{"content": "Хорошо, записываю."}]
    assert GroundedRephraser(peer.settings()).rephrase("ASK_CLIENT_NAME", TEMPLATE, DialogSlots(), profile) == TEMPLATE


def test_slow_llm_falls_back_within_budget(peer, profile):
    peer.script = [{"sleep": 3.0, "content": "Как вас зовут?"}]
    started = time.monotonic()
    out = GroundedRephraser(peer.settings(budget_ms=300)).rephrase("ASK_CLIENT_NAME", TEMPLATE, DialogSlots(),
                                                                   profile)
    assert out == TEMPLATE
    assert time.monotonic() - started < 1.5


def test_answer_grounded_or_none(peer, profile):
    peer.script = [{"content": f"Мы находимся по адресу {profile.clinic.address}."}, {"content": "Адрес: Тверская 99."}]
    rephraser = GroundedRephraser(peer.settings())
    assert rephraser.answer("где вы находитесь", DialogSlots(), profile) is not None
    assert rephraser.answer("где вы находитесь", DialogSlots(), profile) is None
    assert "Справка" in peer.bodies[0]["messages"][0]["content"]  # the facts are in the prompt


def test_assignment_is_stable_and_keeps_the_ratio():
    variants = VariantSet.model_validate({"variants": [{"name": "a", "weight": 3}, {"name": "b", "weight": 7}]})
    ids = [f"session-{i}" for i in range(20000)]
    first = [assign_variant(i, variants) for i in ids]
    assert first == [assign_variant(i, variants) for i in ids]
    share = Counter(first)["a"] / len(ids)
    assert 0.28 < share < 0.32


def test_assignment_is_counted_per_variant():
    variants = VariantSet.model_validate({"variants": [{"name": "only", "weight": 1}]})
    before = metric("salesagent_llm_variant_sessions_total", variant="only")
    assert assign_variant("abc", variants) == "only"
    assert metric("salesagent_llm_variant_sessions_total", variant="only") == before + 1


def test_variants_file(tmp_path):
    path = tmp_path / "variants.yaml"
    path.write_text("variants:\n  - {name: baseline, weight: 1}\n  - {name: warm, weight: 1, reply_style: тепло}\n",
                    "utf-8")
    loaded = load_variants(path)
    assert [v.name for v in loaded.variants] == ["baseline", "warm"]
    path.write_text("variants:\n  - {name: baseline, weight: 0}\n", "utf-8")
    with pytest.raises(VariantsError, match="weight"):
        load_variants(path)
    with pytest.raises(VariantsError, match="cannot read"):
        load_variants(tmp_path / "missing.yaml")


def test_variant_changes_the_prompt_and_the_metric_label(peer, profile, make_context):
    from salesagent.llm.extractor import LLMExtractor

    variants = VariantSet.model_validate({"variants": [
        {"name": "baseline", "weight": 1}, {"name": "strict", "weight": 1, "extract_instructions": "ОСОБОЕ ПРАВИЛО"}]})
    peer.script = [{"content": "{}"}]
    before = metric("salesagent_llm_request_seconds_count", operation="extract", variant="strict", outcome="ok")
    LLMExtractor(peer.settings(), variants=variants).with_variant("strict").extract("да", make_context())
    assert "ОСОБОЕ ПРАВИЛО" in peer.bodies[0]["messages"][0]["content"]
    after = metric("salesagent_llm_request_seconds_count", operation="extract", variant="strict", outcome="ok")
    assert after == before + 1
