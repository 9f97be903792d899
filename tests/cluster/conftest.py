"""The cluster tests point this process at the cluster's Redis, outbox and webhook through
os.environ (bench.bench_cluster._caller_env): every later test gets back the environment it had
(once leaked, the webhook sink and the Redis prefix failed the notify and lifecycle tests)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from tests.speech.conftest import caller_audio, quiet  # noqa: F401  (the speech fixtures)


@pytest.fixture(autouse=True)
def _own_environment() -> Iterator[None]:
    from salesagent.config import get_settings

    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
