"""Open-source Russian voice sales agent for a diagnostic clinic.

Folders name the architecture: ``clinic`` (the profile as data), ``dialog`` (policy engine),
``speech`` (VAD, ASR, TTS), ``transport`` (telephony bridges), ``notify`` (leads),
``llm`` (OpenAI-compatible path), ``services`` (HTTP apps), ``cli``.
"""

__version__ = "0.1.0"
