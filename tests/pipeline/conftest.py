"""Voice pipeline fixtures: ONE real stack per module and the caller's voice.

* :func:`voice_stack`: :meth:`VoiceStack.build` with the real Whisper base (models/whisper-base) and
  the real festival TTS, loaded once per module, with its own data dir (outbox, call records, TTS
  cache) and the tests' fixed clock. The greeting is prerendered, as ``salesagent prerender`` does.
* :func:`caller_voice`: festival + sox caller lines (``demo.voices.CallerVoice``, the helper over
  ``speech.asr.caller_voice``): a pitch/tempo-shifted, telephone-band voice, not the agent's.

The per-test data dir and clock of tests/conftest.py still apply to everything a test builds itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from salesagent.services.app import VoiceStack

RATE = 8000
# The same fixed "now" as tests/conftest.py (the module-scoped stack outlives its per-test env).
DEFAULT_NOW = os.environ.get("SALESAGENT_TEST_NOW", "2026-11-25T11:00:00+03:00")


# -- the stack ---------------------------------------------------------------------------------------
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
        mp.setenv("SALESAGENT_NOW", DEFAULT_NOW)
        mp.setenv("SALESAGENT_SESSION_STORE", "sqlite")
        get_settings.cache_clear()
        yield data
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def voice_stack(voice_env: Path) -> Iterator[VoiceStack]:
    """Whisper base + festival + dialog + outbox + call records, once per module."""
    from salesagent.config import Settings
    from salesagent.pipeline.config import VoiceSettings
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

    return CallerVoice(tmp_path_factory.mktemp("caller-voice"), pitch_cents=250, tempo=1.1, rate=RATE).render
