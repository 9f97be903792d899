"""The engine reaches the LLM when configured: hybrid on gaps only, rephraser, A/B variants.

Built exactly as every entry point builds it (``services.factory.build_service``), against a
real HTTP peer speaking the chat-completions wire format (``WirePeer``): the timing and the
content a real model cannot be made to produce on demand are scripted there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from salesagent.config import Settings
from salesagent.llm.local_server import free_port
from salesagent.llm.variants import load_variants
from salesagent.services.factory import StartupError, build_service

NOW = "2026-11-25T11:00:00+03:00"
# up to ASK_VISITED_DOCTOR; every answer here is understood by the rules
OPENING = ["", "я Ольга хочу на мрт колена в пятницу в два часа дня", "болит колено", "две недели", "ноющая"]


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SALESAGENT_NOW", NOW)
    monkeypatch.setenv("SALESAGENT_DATA_DIR", str(tmp_path / "data"))
    for name in ("SALESAGENT_LLM_REPHRASE", "SALESAGENT_LLM_VARIANTS_PATH", "SALESAGENT_EXTRACTOR"):
        monkeypatch.delenv(name, raising=False)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def extraction_requests(peer) -> list[dict]:
    """Request bodies of extraction calls (not the start-up warm-up, not rephrasing)."""
    return [b for b in peer.bodies if b.get("max_tokens") != 1 and "response_format" in b]


def service_for(peer, extractor: str = "rules", **llm):
    values = {"warmup_s": 0, "max_retries": 0, "rephrase": False, "budget_ms": 2000, **llm}
    return build_service(Settings(extractor=extractor), leads=False, llm=peer.settings(**values))


def play(service, sid: str, lines: list[str]):
    result = None
    for line in lines:
        result = service.handle_sync(sid, line)
    return result


def test_hybrid_asks_the_llm_only_when_the_rules_did_not_understand(peer) -> None:
    peer.script = [{"content": json.dumps({"intents": ["yes"]})}]
    service = service_for(peer, "hybrid")
    try:
        before = metric("salesagent_llm_hybrid_turns_total", variant="baseline", outcome="rules")
        result = play(service, "gaps-1", OPENING)
        assert result.state.value == "ASK_VISITED_DOCTOR"
        assert extraction_requests(peer) == []  # every answer understood: no request, rules' speed
        assert metric("salesagent_llm_hybrid_turns_total", variant="baseline", outcome="rules") - before == 4
        result = service.handle_sync("gaps-1", "участковый смотрел")  # the rules find neither yes nor no
        sent = extraction_requests(peer)
        assert len(sent) == 1 and "участковый смотрел" in sent[0]["messages"][-1]["content"]
        assert result.slots["visited_doctor"] is True and result.state.value != "ASK_VISITED_DOCTOR"
        session = service.store.get("gaps-1")
        assert session.history[-2].extraction["source"] == "hybrid"
    finally:
        service.store.close()


def test_llm_values_the_profile_lacks_never_reach_the_slots(peer) -> None:
    peer.script = [{"content": json.dumps({"intents": ["yes", "teleport"], "age": 500, "weight": 2,
                                           "body_part": "tail", "modality": "pet", "contraindications": ["vampire"],
                                           "client_name": "R2-D2"})}]
    service = service_for(peer, "hybrid")
    rejected = {f: metric("salesagent_llm_rejected_values_total", field=f, variant="baseline")
                for f in ("age", "weight", "body_part", "modality", "contraindications", "intents", "client_name")}
    try:
        result = play(service, "valid-1", [*OPENING, "участковый смотрел"])
        slots = result.slots
        assert slots["visited_doctor"] is True  # the valid value is kept
        assert slots.get("age") is None and slots.get("weight") is None
        assert slots["client_name"] == "Ольга" and slots["study_type"] == "МРТ коленного сустава"
        assert not slots.get("contraindications")
        for field, count in rejected.items():
            assert metric("salesagent_llm_rejected_values_total", field=field, variant="baseline") == count + 1, field
    finally:
        service.store.close()


def test_rephraser_is_reached_and_the_template_said_on_timeout(peer) -> None:
    greeting = "Добрый день, вас слушает администратор. Чем могу помочь?"
    peer.script = [{"content": greeting}, {"sleep": 1.5, "content": "Что болит?"}]
    service = service_for(peer, rephrase=True, budget_ms=500)
    timeouts = metric("salesagent_llm_fallbacks_total", operation="rephrase", variant="baseline", reason="timeout")
    try:
        first = service.handle_sync("reph-1", "")
        assert first.reply == greeting
        second = service.handle_sync("reph-1", OPENING[1])
        assert second.state.value == "ASK_SYMPTOMS" and second.latency_ms < 1500
        session = service.store.get("reph-1")
        assert session.history[0].template and session.history[0].template != greeting  # what was reworded
        assert second.reply == session.history[-1].text and session.history[-1].template is None
        assert "беспокоит" in second.reply  # the template
        assert metric("salesagent_llm_fallbacks_total", operation="rephrase", variant="baseline",
                      reason="timeout") == timeouts + 1
    finally:
        service.store.close()


def test_ab_variant_on_the_session_in_the_prompt_and_in_metrics(peer, tmp_path: Path) -> None:
    path = tmp_path / "variants.yaml"
    path.write_text("variants:\n  - name: plain\n    weight: 1\n"
                    "  - name: terse\n    weight: 1\n    extract_instructions: 'ОТВЕЧАЙ_КРАТКО'\n", "utf-8")
    variants = load_variants(path)
    peer.script = [{"content": json.dumps({"intents": ["yes"]})}]
    service = service_for(peer, "hybrid", variants_path=path)
    ids = [f"ab-{i}" for i in range(12)]
    want = {sid: variants.assign(sid).name for sid in ids}
    assert set(want.values()) == {"plain", "terse"}  # both arms are exercised
    sessions = {v: metric("salesagent_llm_variant_sessions_total", variant=v) for v in ("plain", "terse")}
    try:
        for sid in ids:
            service.handle_sync(sid, "")
            assert service.store.get(sid).variant == want[sid]
        for variant in ("plain", "terse"):
            count = sum(1 for v in want.values() if v == variant)
            assert metric("salesagent_llm_variant_sessions_total", variant=variant) == sessions[variant] + count
        terse = next(sid for sid in ids if want[sid] == "terse")
        plain = next(sid for sid in ids if want[sid] == "plain")
        for sid in (terse, plain):
            play(service, sid, [*OPENING[1:], "участковый смотрел"])
        prompts = ["\n".join(m["content"] for m in b["messages"]) for b in extraction_requests(peer)]
        assert ["ОТВЕЧАЙ_КРАТКО" in p for p in prompts] == [True, False]
        assert metric("salesagent_llm_hybrid_turns_total", variant="terse", outcome="used") >= 1
        outcomes = metric("salesagent_llm_variant_outcomes_total", variant="terse", status="abandoned")
        service.end_call_sync(terse)
        assert metric("salesagent_llm_variant_outcomes_total", variant="terse", status="abandoned") == outcomes + 1
        from salesagent.dialog.service import session_view

        assert session_view(service.store.get(terse))["variant"] == "terse"  # GET /session/{id}
    finally:
        service.store.close()


def test_variant_in_the_call_report(peer, tmp_path: Path) -> None:
    from salesagent.pipeline.report import CallReport

    path = tmp_path / "variants.yaml"
    path.write_text("variants:\n  - name: solo\n    weight: 1\n", "utf-8")
    service = build_service(Settings(), leads=False, llm=peer.settings(warmup_s=0, variants_path=path, rephrase=False))
    try:
        service.handle_sync("rep-1", "")
        session = service.store.get("rep-1")
        report = CallReport("rep-1", "test", None, session.created_at).to_dict(session, {})
        assert report["variant"] == "solo"
    finally:
        service.store.close()


def test_variant_outcomes_keep_the_outbox_for_the_lead_worker(peer, tmp_path: Path) -> None:
    path = tmp_path / "variants.yaml"
    path.write_text("variants:\n  - name: only\n    weight: 1\n", "utf-8")
    service = build_service(Settings(), llm=peer.settings(warmup_s=0, variants_path=path, rephrase=False))
    try:
        assert service.leads.outbox is not None  # serve's lead worker and `salesagent leads` find it
        service.handle_sync("lead-1", "")
        service.end_call_sync("lead-1")
        assert [e.call_id for e in service.leads.outbox.list()] == ["lead-1"]
    finally:
        service.store.close()


def test_llm_without_a_server_refuses_to_start_and_hybrid_runs_on_the_rules(peer, caplog) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    settings = peer.settings(LLM_BASE_URL=closed, warmup_s=5, max_retries=0, rephrase=False)
    with pytest.raises(StartupError) as err:
        build_service(Settings(extractor="llm"), leads=False, llm=settings)
    assert "does not answer" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(StartupError):
        build_service(Settings(extractor="hybrid"), leads=False, llm=settings.model_copy(update={"required": True}))
    service = build_service(Settings(extractor="hybrid"), leads=False, llm=settings)
    try:
        assert any("runs on the rules" in r.getMessage() for r in caplog.records)
        result = play(service, "down-1", [*OPENING, "участковый смотрел"])
        assert result.state.value == "ASK_VISITED_DOCTOR" and result.latency_ms < 2000  # re-asked, not stuck
    finally:
        service.store.close()


@pytest.mark.parametrize(("state", "text", "want"), [
    ("ASK_VISITED_DOCTOR", "да, терапевт направил", True),
    ("ASK_VISITED_DOCTOR", "участковый смотрел", False),   # neither yes nor no
    ("ASK_CLIENT_NAME", "меня зовут ольга", True),
    ("ASK_CLIENT_NAME", "ну это самое", False),
    ("ASK_PHONE", "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", True),
    ("ASK_PHONE", "сейчас посмотрю где-то был записан", False),
    ("CONFIRM_TIME", "нет, не надо, передумала", True),      # a refusal is acted on whatever was asked
    ("ASK_AGE_WEIGHT", "а сколько стоит мрт колена", True),  # a question back the rules matched to a FAQ
])
def test_understood_is_about_the_answer_to_the_pending_question(rules, make_context, state, text, want) -> None:
    from salesagent.dialog.planner import EXPECTED
    from salesagent.dialog.states import State
    from salesagent.llm.hybrid import understood

    context = make_context(State(state), expected=EXPECTED[State(state)])
    assert understood(rules.extract(text, context), context) is want


def test_the_llm_may_answer_but_never_end_the_call() -> None:
    from salesagent.dialog.extract.base import Extraction, Intent
    from salesagent.llm.hybrid import merge_extractions

    for invented in ({Intent.CALLBACK}, {Intent.DECLINE}, {Intent.HUMAN}, {Intent.YES, Intent.NO}):
        merged, fields = merge_extractions(Extraction(), Extraction(intents=invented, source="llm"))
        assert merged.intents == set() and fields == [], invented
    merged, fields = merge_extractions(Extraction(), Extraction(intents={Intent.NO, Intent.CALLBACK}, source="llm"))
    assert merged.intents == {Intent.NO} and fields == ["intents"]


def test_an_answer_with_a_question_mark_is_still_an_answer(rules, make_context) -> None:
    from salesagent.dialog.planner import EXPECTED
    from salesagent.dialog.states import State
    from salesagent.llm.hybrid import understood

    context = make_context(State.ASK_APPOINTMENT_DATE, expected=EXPECTED[State.ASK_APPOINTMENT_DATE])
    assert understood(rules.extract("на пятницу есть что-нибудь", context), context)  # the date answers it


@pytest.mark.parametrize(("said", "model", "kept"), [
    ("так любовь петровна", "Татьяна", None),          # not said: copied from the prompt's examples
    ("ой это роман", "Ой", None),                      # a filler, no first name
    ("так любовь петровна", "Любовь Петровна", "Любовь Петровна"),
    ("ну меня это самое ольгой зовут", "Ольгой", "Ольга"),
])
def test_a_name_from_the_llm_must_be_a_name_the_caller_said(peer, make_context, said, model, kept) -> None:
    from salesagent.dialog.states import State
    from salesagent.llm.extractor import LLMExtractor

    peer.script = [{"content": json.dumps({"client_name": model})}]
    got = LLMExtractor(peer.settings(max_retries=0)).extract(said, make_context(State.ASK_CLIENT_NAME,
                                                                               expected=("client_name",)))
    assert got.client_name == kept
