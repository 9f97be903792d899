"""Settings of the deterministic extractor (``SALESAGENT_EXTRACT_*``), validated at start.

The defaults are the measured ones; an operator changes them only to trade recall for precision
on a particular ASR (a noisier one wants a lower fuzzy threshold).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExtractSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESAGENT_EXTRACT_", extra="ignore")

    fuzzy_threshold: int = Field(
        default=80, ge=50, le=100, description="rapidfuzz ratio (0-100) for a misheard profile word to count."
    )
    max_chars: int = Field(
        default=1000, ge=50, le=100_000, description="Longer utterances are cut: ASR never sends more in a turn."
    )
    ner: bool = Field(default=True, description="Confirm names with natasha NER (else pymorphy3 name tags only).")


@lru_cache(maxsize=1)
def get_extract_settings() -> ExtractSettings:
    return ExtractSettings()
