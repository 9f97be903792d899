"""Settings of the lead notifier: where leads wait (outbox), where they go (sink), how hard we try.

Validated once at start (``NotifySettings()`` raises on a bad value) so a misconfigured clinic
finds out when the service starts, not when the first lead silently fails to arrive. The two
Google variables keep the names the seed uses (``GOOGLE_CREDENTIALS_PATH``, ``GOOGLE_SHEET_ID``);
everything else is ``SALESAGENT_NOTIFY_*``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from salesagent.config import get_settings


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SALESAGENT_NOTIFY_", extra="ignore", env_file=".env", populate_by_name=True
    )

    # -- sink -----------------------------------------------------------------------------------
    sink: Literal["auto", "google", "xlsx", "webhook"] = Field(
        default="auto", description="auto: Google when both GOOGLE_* are set, else the local xlsx."
    )
    google_credentials_path: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("GOOGLE_CREDENTIALS_PATH", "SALESAGENT_NOTIFY_GOOGLE_CREDENTIALS_PATH"),
    )
    google_sheet_id: str | None = Field(
        default=None, validation_alias=AliasChoices("GOOGLE_SHEET_ID", "SALESAGENT_NOTIFY_GOOGLE_SHEET_ID")
    )
    worksheet: str = Field(default="Лист4", min_length=1, max_length=100)
    google_api_base: str = Field(
        default="https://sheets.googleapis.com",
        description="Sheets API origin; only changed for a local emulator or an egress proxy.",
    )
    google_min_interval_s: float = Field(
        default=1.1, ge=0, description="Spacing of Google calls (quota is 60 requests/min per user)."
    )
    xlsx_path: Path | None = Field(default=None, description="Default: $SALESAGENT_DATA_DIR/leads.xlsx")
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None

    # -- outbox ---------------------------------------------------------------------------------
    outbox_backend: Literal["sqlite", "postgres"] = "sqlite"
    outbox_path: Path | None = Field(default=None, description="Default: $SALESAGENT_DATA_DIR/outbox.sqlite3")
    postgres_dsn: str = Field(
        default="postgresql://127.0.0.1:5432/salesagent",
        validation_alias=AliasChoices("SALESAGENT_NOTIFY_POSTGRES_DSN", "DATABASE_URL"),
    )
    postgres_table: str = Field(default="salesagent_leads", pattern=r"^[a-z_][a-z0-9_]{0,62}$")

    # -- delivery -------------------------------------------------------------------------------
    max_attempts: int = Field(default=10, ge=1, le=1000, description="Then the lead is dead (re-drivable).")
    request_timeout_s: float = Field(default=20.0, gt=0, le=600)
    lease_s: float = Field(default=120.0, gt=0, description="A claimed batch is retried by another worker after this.")
    backoff_initial_s: float = Field(default=2.0, gt=0)
    backoff_max_s: float = Field(default=600.0, gt=0)
    backoff_jitter_s: float = Field(default=1.0, ge=0)
    batch_size: int = Field(default=50, ge=1, le=500, description="Rows per append request.")
    poll_interval_s: float = Field(default=2.0, gt=0)

    # -- call records ---------------------------------------------------------------------------
    calls_dir: Path | None = Field(default=None, description="Default: $SALESAGENT_DATA_DIR/calls")
    retention_days: int = Field(default=90, ge=1, le=3650)
    keep_recordings: bool = True

    @field_validator("outbox_backend", mode="before")
    @classmethod
    def _explain_redis(cls, value: object) -> object:
        if value == "redis":
            raise ValueError(
                "redis is not offered as a lead outbox: with the default appendfsync=everysec an "
                "acknowledged write can be lost on a crash; use postgres (fsync on commit) or sqlite"
            )
        return value

    @field_validator("google_api_base", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _consistent(self) -> NotifySettings:
        google = (self.google_credentials_path, self.google_sheet_id)
        if self.sink in ("auto", "google") and any(google) and not all(google):
            raise ValueError("set both GOOGLE_CREDENTIALS_PATH and GOOGLE_SHEET_ID (only one is set)")
        if self.sink == "google" and not all(google):
            raise ValueError("sink=google needs GOOGLE_CREDENTIALS_PATH and GOOGLE_SHEET_ID")
        if self.sink == "webhook" and not (self.webhook_url and self.webhook_secret):
            raise ValueError("sink=webhook needs SALESAGENT_NOTIFY_WEBHOOK_URL and SALESAGENT_NOTIFY_WEBHOOK_SECRET")
        if self.lease_s < 2 * self.request_timeout_s:
            raise ValueError(
                f"lease_s ({self.lease_s}) must be at least twice request_timeout_s ({self.request_timeout_s}) "
                "so a slow request ends before another worker may retry the same lead"
            )
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must not be below backoff_initial_s")
        return self

    @property
    def use_google(self) -> bool:
        return self.sink == "google" or (
            self.sink == "auto" and bool(self.google_credentials_path and self.google_sheet_id)
        )

    def resolved_outbox_path(self) -> Path:
        return self.outbox_path or get_settings().ensure_data_dir() / "outbox.sqlite3"

    def resolved_xlsx_path(self) -> Path:
        return self.xlsx_path or get_settings().ensure_data_dir() / "leads.xlsx"

    def resolved_calls_dir(self) -> Path:
        return self.calls_dir or get_settings().ensure_data_dir() / "calls"
