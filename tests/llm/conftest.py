"""Fixtures of the LLM tests: a real llama.cpp server (session) and a scriptable wire peer.

The real server runs Qwen2.5-Coder-0.5B (assembled by scripts/setup.d/40-llm.sh). What a real
model cannot be made to do on demand (sleep past the budget, answer 503 once, hallucinate a price)
is played by ``WirePeer``: a real HTTP server on a free port speaking the chat-completions wire
format, so the client code path is the same one production runs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from salesagent.dialog.extract.base import ExtractionContext
from salesagent.dialog.states import State
from salesagent.llm.config import LLMSettings
from salesagent.llm.local_server import MODELS_DIR, SMALL_MODEL, LlamaCppServer

# CPU llama.cpp on 2 shared cores: the first request evaluates the whole static prompt (tens of
# seconds); the tests use a generous budget and never assert on LLM latency.
REAL_BUDGET_MS = 60_000


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaCppServer]:
    server = LlamaCppServer(MODELS_DIR / SMALL_MODEL, threads=2, n_ctx=4096)
    server.start()  # raises with one clear line when the package or the model is missing
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def real_settings(llama_server: LlamaCppServer) -> LLMSettings:
    return LLMSettings(LLM_BASE_URL=llama_server.base_url, LLM_MODEL=llama_server.alias, LLM_BACKEND="llamacpp",
                       budget_ms=REAL_BUDGET_MS, max_retries=0, rephrase=True)


def completion(content: str) -> dict[str, Any]:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "peer",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class WirePeer:
    """An OpenAI-compatible HTTP peer whose answers the test scripts.

    ``script`` is a list of steps, one per request (the last one repeats): ``{"sleep": s}``,
    ``{"status": 503}``, ``{"content": "..."}``. Every request body is kept in ``bodies``.
    """

    def __init__(self) -> None:
        self.script: list[dict[str, Any]] = [{"content": "{}"}]
        self.bodies: list[dict[str, Any]] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "peer", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                peer.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                step = peer.script[min(len(peer.bodies) - 1, len(peer.script) - 1)]
                if "sleep" in step:
                    time.sleep(step["sleep"])
                if "status" in step:
                    self._send(step["status"], {"error": {"message": "scripted failure"}})
                    return
                self._send(200, completion(step.get("content", "{}")))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up at its deadline, as it should

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def settings(self, **overrides: Any) -> LLMSettings:
        values: dict[str, Any] = {"LLM_BASE_URL": self.base_url, "LLM_MODEL": "peer", "LLM_BACKEND": "vllm",
                                  "budget_ms": 800, "max_retries": 2, "backoff_ms": 20,
                                  "rephrase": True}
        values.update(overrides)
        return LLMSettings(**values)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peer() -> Iterator[WirePeer]:
    wire = WirePeer()
    yield wire
    wire.close()


@pytest.fixture
def make_context(profile):
    def make(state: State = State.ASK_SYMPTOMS, expected: tuple[str, ...] = (),
             history: tuple[tuple[str, str], ...] = ()) -> ExtractionContext:
        now = datetime.fromisoformat("2026-11-25T11:00:00+03:00").astimezone(profile.tz)
        return ExtractionContext(state=state, now=now, profile=profile, expected=expected, history=history)

    return make


@pytest.fixture(scope="session")
def rules():
    from salesagent.dialog.extract.rules import RuleExtractor

    extractor = RuleExtractor()
    return extractor
