"""The chat client against a scripted HTTP peer: backend forms, retries, the hard budget, metrics."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError

from salesagent.llm.client import ChatClient, LLMBadResponse, LLMTimeout, LLMUnavailable
from salesagent.llm.config import LLMSettings
from salesagent.llm.local_server import free_port

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}}
MSGS = [{"role": "user", "content": "привет"}]


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(("backend", "expected_type"), [("llamacpp", "json_object"), ("vllm", "json_schema"),
                                                          ("openai", "json_schema")])
def test_response_format_per_backend(peer, backend, expected_type):
    peer.script = [{"content": '{"a": 1}'}]
    ChatClient(peer.settings(LLM_BACKEND=backend)).complete(MSGS, operation="t", schema=SCHEMA, schema_name="S")
    sent = peer.bodies[0]["response_format"]
    assert sent["type"] == expected_type
    if backend == "llamacpp":
        assert sent["schema"] == SCHEMA  # llama.cpp answers json_schema with HTTP 500
    else:
        assert sent["json_schema"]["schema"] == SCHEMA
        assert sent["json_schema"]["name"] == "S"


def test_model_and_key_are_sent(peer):
    client = ChatClient(peer.settings(LLM_MODEL="qwen-test", LLM_API_KEY="k1"))
    client.complete(MSGS, operation="t")
    assert peer.bodies[0]["model"] == "qwen-test"
    assert "response_format" not in peer.bodies[0]


def test_transient_error_is_retried_within_budget(peer):
    peer.script = [{"status": 503}, {"content": "ok"}]
    before = metric("salesagent_llm_retries_total", operation="retry-test", variant="baseline")
    answer = ChatClient(peer.settings(budget_ms=2000)).complete(MSGS, operation="retry-test")
    assert answer == "ok"
    assert len(peer.bodies) == 2
    assert metric("salesagent_llm_retries_total", operation="retry-test", variant="baseline") == before + 1


def test_client_error_is_not_retried(peer):
    peer.script = [{"status": 400}]
    with pytest.raises(LLMBadResponse):
        ChatClient(peer.settings()).complete(MSGS, operation="t")
    assert len(peer.bodies) == 1


def test_persistent_5xx_gives_up_after_retries(peer):
    peer.script = [{"status": 500}]
    before = metric("salesagent_llm_failures_total", operation="fail-test", variant="baseline", reason="unavailable")
    with pytest.raises(LLMUnavailable):
        ChatClient(peer.settings(budget_ms=3000, max_retries=2)).complete(MSGS, operation="fail-test")
    assert len(peer.bodies) == 3
    after = metric("salesagent_llm_failures_total", operation="fail-test", variant="baseline", reason="unavailable")
    assert after == before + 1


def test_slow_server_hits_the_budget(peer):
    peer.script = [{"sleep": 3.0, "content": "late"}]
    before = metric("salesagent_llm_failures_total", operation="slow", variant="baseline", reason="timeout")
    started = time.monotonic()
    with pytest.raises(LLMTimeout):
        ChatClient(peer.settings(budget_ms=300)).complete(MSGS, operation="slow")
    assert time.monotonic() - started < 1.5  # the budget (0.3 s) plus scheduling slack, not the 3 s sleep
    assert metric("salesagent_llm_failures_total", operation="slow", variant="baseline", reason="timeout") == before + 1


def test_refused_connection_is_an_llm_error():
    settings = LLMSettings(LLM_BASE_URL=f"http://127.0.0.1:{free_port()}/v1", budget_ms=500, backoff_ms=20)
    with pytest.raises((LLMUnavailable, LLMTimeout)):
        ChatClient(settings).complete(MSGS, operation="t")


def test_not_a_chat_completion_is_a_bad_response(peer):
    peer.script = [{"content": None}]
    with pytest.raises(LLMBadResponse):
        ChatClient(peer.settings()).complete(MSGS, operation="t")


def test_settings_reject_bad_values(monkeypatch):
    monkeypatch.setenv("LLM_BACKEND", "ollama")
    with pytest.raises(ValidationError, match="LLM_BACKEND"):
        LLMSettings()
    monkeypatch.delenv("LLM_BACKEND")
    monkeypatch.setenv("LLM_BASE_URL", "http://127.0.0.1:8000")
    with pytest.raises(ValidationError, match="/v1"):
        LLMSettings()


def test_settings_read_standard_env_names(monkeypatch):
    monkeypatch.setenv("LLM_BASE_URL", "http://gpu-box:8000/v1")
    monkeypatch.setenv("LLM_MODEL", "Qwen/Qwen2.5-14B-Instruct-AWQ")
    monkeypatch.setenv("LLM_BACKEND", "llamacpp")
    monkeypatch.setenv("SALESAGENT_LLM_BUDGET_MS", "1200")
    settings = LLMSettings()
    assert settings.chat_url == "http://gpu-box:8000/v1/chat/completions"
    assert (settings.model, settings.backend, settings.budget_s) == ("Qwen/Qwen2.5-14B-Instruct-AWQ", "llamacpp", 1.2)
