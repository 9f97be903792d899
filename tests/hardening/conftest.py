"""Hardening tests (issue 12): the attacks run against real servers, stores and files."""

from __future__ import annotations

import os
import uuid

import pytest

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(params=["sqlite", "redis"])
def store_backend(request, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session store under test; Redis gets a key prefix of its own (no flushdb)."""
    monkeypatch.setenv("SALESAGENT_SESSION_STORE", request.param)
    if request.param == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.RedisError as exc:
            if os.environ.get("CI"):
                pytest.fail(f"Redis is required at {REDIS_URL}: {exc}")
            pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
        monkeypatch.setenv("SALESAGENT_REDIS_PREFIX", f"test-{uuid.uuid4().hex[:12]}")
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
    from salesagent.config import get_settings

    get_settings.cache_clear()
    return request.param


@pytest.fixture
def dialog_server(profile):
    """The policy engine's HTTP API on a live uvicorn thread (settings read from the environment
    as it is when the fixture runs: request ``token`` first to serve it behind a token)."""
    from salesagent.config import get_settings
    from salesagent.services.dialog_api import create_app
    from salesagent.services.factory import build_service
    from support.live_server import ThreadedServer

    service = build_service(get_settings(), profile=profile)
    server = ThreadedServer(create_app(service, sweep_interval_s=3600))
    yield server
    server.stop()
    service.store.close()
