"""The engine contract: text in, PCM16 mono at the engine's native rate out.

Engines differ wildly (a long-lived festival process, an espeak-ng subprocess, an ONNX model in
process); the synthesiser, the cache and the gateway only see this Protocol, so the engine is a
configuration choice (``SALESAGENT_TTS_ENGINE``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class TtsError(RuntimeError):
    """Synthesis failed (engine missing, crashed, timed out). The message says which and why."""


class UnknownVoiceError(ValueError):
    """The requested voice is not one the engine has."""


@runtime_checkable
class TtsEngine(Protocol):
    name: str
    sample_rate: int
    voices: list[str]

    def synthesize(self, text: str, voice: str | None = None) -> bytes:
        """PCM16 little-endian mono at :attr:`sample_rate`. Blocking; call from a worker thread."""
        ...

    def close(self) -> None: ...


def pick_voice(engine_name: str, voices: list[str], voice: str | None) -> str:
    if voice is None:
        return voices[0]
    if voice not in voices:
        raise UnknownVoiceError(f"{engine_name} has no voice {voice!r}; available: {', '.join(voices)}")
    return voice
