"""Console fixtures: a staff login, the system chromium (Debian's, scripts/setup.d/50-console.sh)."""

from __future__ import annotations

import shutil

import pytest

USER, PASSWORD = "registrar", "console-test-password"


@pytest.fixture
def console_login(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """One staff user in SALESAGENT_CONSOLE_USERS, as an operator configures it (a scrypt hash)."""
    from salesagent.console.auth import hash_password

    monkeypatch.setenv("SALESAGENT_CONSOLE_USERS", f"{USER}:{hash_password(PASSWORD)}")
    return USER, PASSWORD


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is missing: run bash scripts/setup.d/50-console.sh")
    return path
