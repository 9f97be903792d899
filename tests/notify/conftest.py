"""Fixtures for the lead notifier: a local Google emulator and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from salesagent.notify import NotifySettings
from support.google_emulator import GoogleEmulator


@pytest.fixture
def emulator() -> Iterator[GoogleEmulator]:
    emu = GoogleEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture
def google_settings(emulator: GoogleEmulator, tmp_path: Path) -> NotifySettings:
    key = emulator.service_account(tmp_path / "service-account.json")
    return NotifySettings(
        google_credentials_path=key,
        google_sheet_id=emulator.sheet_id,
        google_api_base=emulator.base_url,
        google_min_interval_s=0,
        outbox_path=tmp_path / "outbox.sqlite3",
        request_timeout_s=1.0,
        lease_s=5.0,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        backoff_jitter_s=0.02,
        max_attempts=20,
    )
