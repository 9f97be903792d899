"""Shared fixtures: an isolated data dir per test, the default profile, a frozen clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
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


# -- the voice stack (pipeline and SIP tests) ------------------------------------------------------
@pytest.fixture(scope="module")
def voice_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir and clock for the whole module; the stack's env knobs at their defaults."""
    from salesagent.config import get_settings

    data = tmp_path_factory.mktemp("voice-data")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("SALESAGENT_VOICE_", "SALESAGENT_VAD_", "SALESAGENT_ASR_", "SALESAGENT_TTS_",
                                "SALESAGENT_TELEPHONY_", "SALESAGENT_NOTIFY_")):
                mp.delenv(name)
        mp.setenv("SALESAGENT_DATA_DIR", str(data))
        mp.setenv("SALESAGENT_NOW", os.environ.get("SALESAGENT_TEST_NOW", DEFAULT_NOW))
        mp.setenv("SALESAGENT_SESSION_STORE", "sqlite")
        get_settings.cache_clear()
        yield data
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def voice_stack(voice_env: Path) -> Iterator:
    """Whisper base + festival + dialog + outbox + call records, once per module."""
    from salesagent.config import Settings
    from salesagent.pipeline.config import VoiceSettings
    from salesagent.services.app import VoiceStack
    from salesagent.speech.config import AsrSettings, VadSettings
    from salesagent.speech.tts.prerender import prerender

    stack = VoiceStack.build(
        Settings(),
        asr=AsrSettings(device="cpu", workers=1),
        vad=VadSettings(),
        # A patient watchdog here; the silence test asks for a short one explicitly.
        voice=VoiceSettings(silence_prompt_s=30.0, min_interruption_ms=0, resume_after_backchannel=True),
    )
    prerender(stack.tts, stack.profile, count=1)  # the greeting, as every deployment does
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def caller_voice(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], bytes]:
    """``caller_voice(text)`` -> PCM16 8 kHz mono: festival msu_ru_nsh shifted +250 cents, x1.1 tempo,
    telephone band (not the agent's voice)."""
    from salesagent.demo.voices import CallerVoice

    return CallerVoice(tmp_path_factory.mktemp("caller-voice"), pitch_cents=250, tempo=1.1, rate=8000).render
