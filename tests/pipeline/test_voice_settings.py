"""Per-question endpoints are configuration an operator writes: a typo must stop the start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from salesagent.pipeline.config import VoiceSettings


def test_answer_endpoints_name_real_dialog_states() -> None:
    with pytest.raises(ValidationError, match="ASK_PHOEN"):
        VoiceSettings(answer_endpoints_ms={"ASK_PHOEN": 900})


def test_answer_endpoints_are_bounded() -> None:
    with pytest.raises(ValidationError, match=r"64\.\.5000"):
        VoiceSettings(answer_endpoints_ms={"ASK_PHONE": 20})


def test_answer_endpoints_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SALESAGENT_VOICE_ANSWER_ENDPOINTS_MS", '{"ASK_PHONE": 1200}')
    assert VoiceSettings().answer_endpoints_ms == {"ASK_PHONE": 1200}
