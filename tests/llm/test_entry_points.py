"""Every entry point (``chat``, ``serve-dialog``, ``serve``, ``demo``) with the LLM extractors.

Run as a user runs them: ``python -m salesagent.cli.main ...`` in a child process. The LLM is
either the project's real llama.cpp server (Qwen2.5-Coder-0.5B on CPU; nothing here asserts on
what the small model understood, only on what the code guarantees) or ``WirePeer``, a real HTTP
peer speaking the chat-completions format, where the test must know what the LLM says.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from salesagent.llm.local_server import free_port

NOW = "2026-11-25T11:00:00+03:00"
BOOKING = [
    "я Ольга хочу на мрт колена в пятницу в два часа дня", "болит колено", "две недели", "ноющая",
    "участковый смотрел",  # the one answer the rules do not understand (neither yes nor no)
    "да", "нет", "нет", "да", "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
    "сорок лет вес семьдесят", "нет", "нет", "да",
]


def cli_env(tmp_path: Path, extractor: str, base_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALESAGENT_", "LLM_", "GOOGLE_"))}
    env.update({"SALESAGENT_DATA_DIR": str(tmp_path / "data"), "SALESAGENT_NOW": NOW,
                "SALESAGENT_EXTRACTOR": extractor, "LLM_BASE_URL": base_url, "LLM_MODEL": "local",
                "SALESAGENT_LLM_MAX_RETRIES": "0", **extra})
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "salesagent.cli.main", *args]


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from a Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return None


def extraction_requests(peer) -> list[dict]:
    return [b for b in peer.bodies if b.get("max_tokens") != 1 and "response_format" in b]


@contextmanager
def served(args: list[str], env: dict[str, str], port: int, ready_path: str, timeout_s: float) -> Iterator[str]:
    """A server child process, yielded once ``ready_path`` answers 200; stopped afterwards."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{args[3]} exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(base + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{args[3]} not ready within {timeout_s} s"
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# -- llm without a server: one line, exit 2, from every entry point --------------------------------
@pytest.mark.parametrize("args", [["chat"], ["serve-dialog", "--port", "0"], ["serve", "--port", "0"],
                                  ["demo", "--persona", "quick"]], ids=lambda a: a[0])
def test_llm_without_a_server_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    proc = subprocess.run(cli(*args), input="", capture_output=True, text=True, timeout=180,
                          env=cli_env(tmp_path, "llm", closed))
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("{")]
    assert lines == [lines[-1]] and lines[-1].startswith(f"salesagent: LLM server {closed}"), proc.stderr[-2000:]
    assert "SALESAGENT_EXTRACTOR=rules" in lines[-1] and "Traceback" not in proc.stderr


def test_bad_llm_setting_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(cli("chat"), input="", capture_output=True, text=True, timeout=120,
                          env=cli_env(tmp_path, "hybrid", "http://127.0.0.1:9/nope"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("salesagent: bad setting LLM_BASE_URL")


# -- hybrid through a wire peer: the LLM is asked for the one answer the rules missed ---------------
def test_chat_hybrid_books_and_asks_the_llm_once(tmp_path: Path, peer) -> None:
    peer.script = [{"content": json.dumps({"intents": ["yes"]})}]
    proc = subprocess.run(cli("chat", "--json"), input="\n".join(BOOKING), capture_output=True, text=True,
                          timeout=240, env=cli_env(tmp_path, "hybrid", peer.base_url))
    assert proc.returncode == 0, proc.stderr[-2000:]
    turns = [json.loads(line) for line in proc.stdout.splitlines()]
    assert turns[-1]["done"] is True and turns[-1]["slots"]["status"] == "booked"
    assert turns[-1]["slots"]["visited_doctor"] is True
    sent = extraction_requests(peer)
    assert len(sent) == 1 and "участковый смотрел" in sent[0]["messages"][-1]["content"]
    assert any(b.get("max_tokens") == 1 for b in peer.bodies)  # the start-up warm-up


def test_serve_hybrid_variant_in_session_and_metrics(tmp_path: Path, peer) -> None:
    """The all-in-one server (telephony, dialog API, ASR, TTS, /metrics) with hybrid and A/B variants."""
    variants = tmp_path / "variants.yaml"
    variants.write_text("variants:\n  - name: solo\n    weight: 1\n    extract_instructions: 'ВАРИАНТ_SOLO'\n", "utf-8")
    peer.script = [{"content": json.dumps({"intents": ["yes"]})}]
    port = free_port()
    env = cli_env(tmp_path, "hybrid", peer.base_url, SALESAGENT_LLM_VARIANTS_PATH=str(variants),
                  SALESAGENT_LLM_WARMUP_S="0", SALESAGENT_ASR_WORKERS="1",
                  SALESAGENT_TELEPHONY_AUDIOSOCKET_PORT=str(free_port()))
    with served(cli("serve", "--port", str(port)), env, port, "/healthz", 300) as base:
        for text in ["", *BOOKING[:5]]:
            reply = httpx.post(f"{base}/dialog", json={"session_id": "srv-1", "text": text}, timeout=30)
            assert reply.status_code == 200, reply.text
        assert reply.json()["slots"]["visited_doctor"] is True
        assert httpx.get(f"{base}/session/srv-1", timeout=10).json()["variant"] == "solo"
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
    assert sample(metrics, "salesagent_llm_variant_sessions_total", variant="solo") == 1
    assert sample(metrics, "salesagent_llm_hybrid_turns_total", variant="solo", outcome="used") == 1
    assert sample(metrics, "salesagent_llm_hybrid_turns_total", variant="solo", outcome="rules") == 4
    sent = extraction_requests(peer)
    assert len(sent) == 1 and "ВАРИАНТ_SOLO" in json.dumps(sent[0]["messages"], ensure_ascii=False)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_demo_call_with_hybrid(tmp_path: Path, peer) -> None:
    """The whole simulated phone call with hybrid extraction (the peer adds nothing: rules decide)."""
    peer.script = [{"content": "{}"}]
    out = tmp_path / "out"
    proc = subprocess.run(cli("demo", "--persona", "quick", "--out", str(out)), capture_output=True, text=True,
                          timeout=840, env=cli_env(tmp_path, "hybrid", peer.base_url))
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["status"] == "booked"
    assert any(b.get("max_tokens") == 1 for b in peer.bodies)  # hybrid was wired: it warmed the server up


# -- the real llama.cpp server ---------------------------------------------------------------------
@pytest.mark.slow
def test_chat_llm_on_the_real_server(tmp_path: Path, llama_server) -> None:
    proc = subprocess.run(cli("chat", "--json"), input="меня зовут ольга хочу мрт колена\n", capture_output=True,
                          text=True, timeout=400,
                          env=cli_env(tmp_path, "llm", llama_server.base_url, LLM_BACKEND="llamacpp",
                                      SALESAGENT_LLM_BUDGET_MS="60000"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    turns = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(turns) == 2 and turns[0]["state"] == "GREETING" and turns[1]["reply"]


@pytest.mark.slow
def test_serve_dialog_hybrid_on_the_real_server(tmp_path: Path, llama_server) -> None:
    port = free_port()
    env = cli_env(tmp_path, "hybrid", llama_server.base_url, LLM_BACKEND="llamacpp",
                  SALESAGENT_LLM_BUDGET_MS="60000", SALESAGENT_LLM_REQUIRED="true")
    with served(cli("serve-dialog", "--port", str(port)), env, port, "/health", 400) as base:
        for text in ["", *BOOKING[:5]]:
            reply = httpx.post(f"{base}/dialog", json={"session_id": "real-1", "text": text}, timeout=120)
            assert reply.status_code == 200, reply.text
        session = httpx.get(f"{base}/session/real-1", timeout=10).json()
    sources = [t["extraction"].get("source", "rules") for t in session["history"]
               if t["role"] == "caller" and t["extraction"] is not None]
    assert len(sources) == 5 and sources[:4] == ["rules"] * 4  # understood by the rules: the LLM was not asked
