"""Shared speech fixtures: synthetic Russian callers (festival + sox), the Whisper engine, prompts.

Callers are generated at test time (festival's msu_ru_nsh voice, pitch/tempo shifted, telephone
band 300-3400 Hz at 8 kHz) and cached for the session; the model is loaded once per session.
Missing tools or a missing model fail loudly with the setup command, never skip.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from salesagent.speech.asr.caller_voice import line_noise, silence, synthesize_caller


@pytest.fixture(scope="session")
def caller_audio() -> Callable[..., np.ndarray]:
    """``caller_audio(text, rate=8000, pitch_cents=250, tempo=1.1, telephone=True)`` -> float32, cached."""
    cache: dict[tuple, np.ndarray] = {}

    def make(text: str, **kwargs) -> np.ndarray:
        key = (text, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = synthesize_caller(text, **kwargs)
        return cache[key].copy()

    return make


@pytest.fixture(scope="session")
def quiet() -> Callable[..., np.ndarray]:
    """``quiet(seconds, rate=8000)``: digital silence."""
    return silence


@pytest.fixture(scope="session")
def noise() -> Callable[..., np.ndarray]:
    """``noise(seconds, rate=8000, level_db=-30, seed=7)``: phone-line hiss and hum."""
    return line_noise


@pytest.fixture(scope="session")
def whisper_engine():
    """The real Whisper base int8 model from models/whisper-base (scripts/setup.sh puts it there)."""
    from salesagent.speech.asr.whisper import FasterWhisperEngine
    from salesagent.speech.config import AsrSettings

    return FasterWhisperEngine(AsrSettings(device="cpu", workers=1))


@pytest.fixture(scope="session")
def clinic_prompt(profile) -> str:
    from salesagent.speech.asr.prompt import vocabulary_prompt
    from salesagent.speech.config import AsrSettings

    return vocabulary_prompt(profile, AsrSettings().stream_prompt_max_chars)  # the stream's prompt, as served
