"""Dialog fixtures: a real HTTP server (uvicorn on a free port) over SQLite or a real Redis."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving the policy engine app in a thread; stop() shuts it down cleanly."""

    def __init__(self, app) -> None:
        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SALESAGENT_SESSION_STORE", request.param)
    if request.param == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        try:
            client.ping()
        except redis.RedisError as exc:  # pragma: no cover - CI starts Redis
            pytest.fail(f"Redis is required at {REDIS_URL}: {exc}")
        # a key prefix of its own per test: no flushdb, so parallel runs on one Redis never collide
        monkeypatch.setenv("SALESAGENT_REDIS_PREFIX", f"test-{uuid.uuid4().hex[:12]}")
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
    from salesagent.config import get_settings

    get_settings.cache_clear()
    return request.param


@pytest.fixture
def make_server(backend: str, profile) -> Iterator[Callable[[], LiveServer]]:
    """Start (and restart) a live policy-engine server on the chosen backend."""
    from salesagent.config import get_settings
    from salesagent.services.dialog_api import create_app
    from salesagent.services.factory import build_service

    servers: list[LiveServer] = []
    services = []

    def start() -> LiveServer:
        service = build_service(get_settings(), profile=profile)
        services.append(service)
        server = LiveServer(create_app(service))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for service in services:
        service.store.close()


@pytest.fixture
def server(make_server) -> LiveServer:
    return make_server()


class Caller:
    """Drives one call through POST /dialog, as the voice pipeline would."""

    def __init__(self, base_url: str, session_id: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30)
        self.session_id = session_id
        self.last: dict = {}
        self.states: list[str] = []

    def start(self) -> dict:
        return self.say("")

    def say(self, text: str) -> dict:
        response = self.client.post("/dialog", json={"session_id": self.session_id, "text": text})
        assert response.status_code == 200, response.text
        self.last = response.json()
        self.states.append(self.last["state"])
        return self.last

    def session(self) -> dict:
        response = self.client.get(f"/session/{self.session_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def run(self, lines: list[str]) -> dict:
        self.start()
        for line in lines:
            if self.last.get("done"):
                break
            self.say(line)
        return self.last

    def answer_until(self, state: str, answers: dict[str, str], limit: int = 30) -> dict:
        """Answer from a state -> utterance map until the agent asks from ``state``."""
        for _ in range(limit):
            if self.last["state"] == state:
                return self.last
            current = self.last["state"]
            assert current in answers, f"no scripted answer for {current}; reply was {self.last['reply']!r}"
            self.say(answers[current])
        raise AssertionError(f"the call never reached {state}")

    def answer_until_done(self, answers: dict[str, str], limit: int = 40) -> dict:
        """Answer whatever the agent asks from a state -> utterance map, until the call ends."""
        if not self.last:
            self.start()
        for _ in range(limit):
            if self.last["done"]:
                return self.last
            state = self.last["state"]
            assert state in answers, f"no scripted answer for {state}; reply was {self.last['reply']!r}"
            self.say(answers[state])
        raise AssertionError("call did not finish")


@pytest.fixture
def caller(server) -> Callable[[str], Caller]:
    made: list[Caller] = []

    def make(session_id: str) -> Caller:
        c = Caller(server.url, session_id)
        made.append(c)
        return c

    yield make
    for c in made:
        c.client.close()
