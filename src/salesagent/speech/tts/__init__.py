"""The "voice": Russian TTS engines behind one Protocol, a cache, sentence streaming, prerender."""

from salesagent.speech.tts.base import TtsEngine, TtsError, UnknownVoiceError
from salesagent.speech.tts.factory import build_cache, build_engine, build_synthesizer
from salesagent.speech.tts.synthesizer import BadRequestError, SpeechSynthesizer

__all__ = [
    "BadRequestError",
    "SpeechSynthesizer",
    "TtsEngine",
    "TtsError",
    "UnknownVoiceError",
    "build_cache",
    "build_engine",
    "build_synthesizer",
]
