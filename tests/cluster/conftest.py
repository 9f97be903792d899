"""Cluster tests reuse the speech fixtures (synthetic Russian callers, silence)."""

from tests.speech.conftest import caller_audio, quiet  # noqa: F401
