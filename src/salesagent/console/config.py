"""Console settings (env prefix ``SALESAGENT_CONSOLE_``).

Staff logins come from configuration only, as scrypt hashes (``salesagent console add-user
NAME``), never from a default password in the code: a console that nobody configured has no users,
so nobody can log in to it, which is safer than a known password on a clinic's call recordings.
"""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESAGENT_CONSOLE_", extra="ignore")

    enabled: bool = True
    users: str = Field(default="", description="'name:scrypt$salt$hash' entries separated by ';' or newlines.")
    secret: str = Field(default_factory=lambda: secrets.token_hex(32),
                        description="Cookie signing key; random per process when unset (logins end on restart).")
    session_hours: float = Field(default=12.0, gt=0)
    page_size: int = Field(default=50, ge=5, le=500)
    secure_cookie: bool = Field(default=False, description="Set behind TLS so the cookie never travels in clear.")
