"""Shared fixtures: an isolated data dir per test, the default profile, a frozen clock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# A fixed "now" for every test unless a test overrides it: Wednesday 25 Nov 2026, 11:00 Moscow.
DEFAULT_NOW = "2026-11-25T11:00:00+03:00"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESAGENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SALESAGENT_NOW", os.environ.get("SALESAGENT_TEST_NOW", DEFAULT_NOW))
    from salesagent.config import get_settings

    get_settings.cache_clear()


@pytest.fixture(scope="session")
def profile():
    from salesagent.clinic.profile import load_profile

    return load_profile()
