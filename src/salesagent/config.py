"""Process-wide settings shared by every stage, validated once at start.

Each stage keeps its own settings class next to its code (``speech.config`` etc.); this module
holds only what all of them share: where data lives, the clinic profile, the session store and
the clock. Environment variables use the ``SALESAGENT_`` prefix, except the ones the seed names
(``REDIS_URL``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/salesagent`` or ``~/.local/share/salesagent``."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "salesagent"


class Settings(BaseSettings):
    """Shared settings. Unknown ``SALESAGENT_*`` variables are ignored."""

    model_config = SettingsConfigDict(env_prefix="SALESAGENT_", extra="ignore", env_file=".env")

    data_dir: Path = Field(default_factory=default_data_dir)
    profile_path: Path | None = Field(
        default=None, description="Clinic profile YAML; the bundled fictitious clinic if unset."
    )
    session_store: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "SALESAGENT_REDIS_URL"),
    )
    extractor: Literal["rules", "llm", "hybrid"] = Field(
        default="rules", description="Slot extractor: deterministic rules (default), LLM, or both merged."
    )
    redis_prefix: str = Field(default="salesagent", pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="Key prefix")
    session_ttl_s: int = Field(default=3600, ge=10, description="Idle sessions expire after this.")
    session_sweep_interval_s: float = Field(
        default=30.0, gt=0, le=3600,
        description="How often a process looks for expired sessions and hands their leads over.",
    )
    log_level: str = "INFO"
    log_pii: bool = Field(default=False, description="Write phone numbers and names unmasked in logs.")
    api_token: str | None = Field(
        default=None, repr=False,
        description="Shared secret every HTTP request and WebSocket must carry (salesagent.security); "
        "without it servers bind loopback only.",
    )
    twilio_auth_token: str | None = Field(
        default=None, repr=False, description="Twilio account auth token: /twilio/media accepts a valid "
        "X-Twilio-Signature instead of the API token (Twilio cannot send the API token).",
    )
    twilio_public_url: str | None = Field(
        default=None, description="Public base URL Twilio dials (wss://agent.example.ru) when a proxy "
        "changes the Host header; the signature covers it.",
    )

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
