"""Settings of the LLM path, validated at start.

The three connection variables keep the names every OpenAI-compatible tool uses (``LLM_BASE_URL``,
``LLM_MODEL``, ``LLM_API_KEY``) so one ``.env`` serves vLLM, llama.cpp and a hosted API alike; the
rest use the ``SALESAGENT_LLM_`` prefix. ``backend`` exists because the servers disagree on how to
ask for schema-constrained JSON (see :mod:`salesagent.llm.client`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, HttpUrl, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Backend = Literal["vllm", "llamacpp", "openai"]

# States whose wording is legally or clinically fixed: the safety questionnaire, prices, the
# booking read-back and the documents. The LLM never rephrases them.
DEFAULT_MANDATORY_STATES: tuple[str, ...] = (
    "ANNOUNCE_PRICE",
    "CHECK_CONTRAINDICATIONS",
    "CONFIRM_TIME",
    "CONFIRM_APPOINTMENT",
    "REMIND_DOCUMENTS",
    "PROVIDE_ADDRESS",
    "PROVIDE_CONTACTS",
    "ASK_PHONE",
    "FAREWELL",
    "END",
)


class LLMSettings(BaseSettings):
    """Everything the LLM client, extractor and rephraser read. Unknown variables are ignored."""

    model_config = SettingsConfigDict(env_prefix="SALESAGENT_LLM_", extra="ignore", env_file=".env")

    base_url: HttpUrl = Field(
        default=HttpUrl("http://127.0.0.1:8000/v1"),
        validation_alias=AliasChoices("LLM_BASE_URL", "SALESAGENT_LLM_BASE_URL"),
        description="OpenAI-compatible root, ending in /v1.",
    )
    model: str = Field(
        default="Qwen/Qwen2.5-14B-Instruct-AWQ",
        validation_alias=AliasChoices("LLM_MODEL", "SALESAGENT_LLM_MODEL"),
        min_length=1,
    )
    api_key: str = Field(
        default="none",
        validation_alias=AliasChoices("LLM_API_KEY", "SALESAGENT_LLM_API_KEY"),
        description="Sent as a Bearer token; local servers ignore it.",
    )
    backend: Backend = Field(
        default="vllm",
        validation_alias=AliasChoices("LLM_BACKEND", "SALESAGENT_LLM_BACKEND"),
        description="How to ask for schema-constrained JSON: vllm/openai use json_schema, llamacpp json_object.",
    )
    budget_ms: int = Field(
        default=800, ge=50, le=60_000, description="Hard wall-clock limit of one LLM call, retries included."
    )
    max_retries: int = Field(default=2, ge=0, le=10, description="Retries of transient errors within the budget.")
    backoff_ms: int = Field(default=50, ge=0, le=5_000, description="First retry delay; doubles each retry.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    extract_max_tokens: int = Field(default=160, ge=16, le=4096)
    reply_max_tokens: int = Field(default=120, ge=16, le=4096)
    history_messages: int = Field(default=12, ge=0, le=200, description="Recent turns the LLM sees.")
    context_token_budget: int = Field(
        default=1500, ge=100, le=100_000,
        description="Budget for history + slots, in approximate tokens (characters / 3).",
    )
    # Which extractor runs is SALESAGENT_EXTRACTOR (rules | llm | hybrid, salesagent.config).
    hybrid_llm_when: Literal["always", "gaps"] = Field(
        default="gaps", description="gaps: ask the LLM only when the rules did not understand the answer."
    )
    required: bool = Field(
        default=False,
        description="hybrid: refuse to start when the server does not answer (llm always refuses).",
    )
    warmup_s: float = Field(default=120.0, ge=0.0, le=600.0,
                            description="Start-up budget to fill the server's prompt cache; 0 skips it.")
    rephrase: bool = Field(default=False, description="Let the LLM rephrase template replies (grounded).")
    mandatory_states: tuple[str, ...] = DEFAULT_MANDATORY_STATES
    variants_path: Path | None = Field(default=None, description="YAML with prompt variants for A/B tests.")

    @field_validator("base_url")
    @classmethod
    def _has_v1(cls, value: HttpUrl) -> HttpUrl:
        if not str(value).rstrip("/").endswith("/v1"):
            raise ValueError(f"LLM_BASE_URL must end in /v1 (OpenAI-compatible root), got {value}")
        return value

    @field_validator("variants_path")
    @classmethod
    def _variants_exist(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"prompt variants file {value} does not exist")
        return value

    @property
    def budget_s(self) -> float:
        return self.budget_ms / 1000.0

    @property
    def chat_url(self) -> str:
        return str(self.base_url).rstrip("/") + "/chat/completions"


@lru_cache(maxsize=1)
def get_llm_settings() -> LLMSettings:
    return LLMSettings()
