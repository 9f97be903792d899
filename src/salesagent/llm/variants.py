"""A/B testing of prompts: named variants, assigned per session by a stable hash.

A variant changes wording, never the clinic's facts: an extra instruction for extraction, a reply
style for rephrasing, a temperature. Sessions are split by ``weight`` (a fixed ratio) with a
SHA-256 of the session id, so the same session always gets the same variant on any worker and
after a restart, without any shared state. The variant name goes into the call report and is a
label of every ``salesagent_llm_*`` metric, which is what lets booking rates be compared.

File format (``SALESAGENT_LLM_VARIANTS_PATH``)::

    variants:
      - name: baseline
        weight: 0.5
      - name: warm
        weight: 0.5
        reply_style: "Говорите тепло и коротко, по имени клиента."
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from salesagent.llm import metrics
from salesagent.llm.config import get_llm_settings

log = logging.getLogger(__name__)


class VariantsError(ValueError):
    """The variants file is missing, not YAML or invalid; the message names the problem."""


class PromptVariant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_\-]{1,40}$")
    weight: float = Field(gt=0.0, description="Relative share of sessions.")
    extract_instructions: str = Field(default="", description="Appended to the extraction rules.")
    reply_style: str = Field(default="", description="Appended to the rephrasing rules.")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)


class VariantSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    variants: list[PromptVariant] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> VariantSet:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate variant names in {names}")
        return self

    def get(self, name: str) -> PromptVariant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        return self.variants[0]

    def assign(self, session_id: str) -> PromptVariant:
        """The session's variant: its hash as a fraction in [0, 1) against cumulative weights."""
        digest = hashlib.sha256(session_id.encode("utf-8")).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64
        total = sum(v.weight for v in self.variants)
        edge = 0.0
        for variant in self.variants:
            edge += variant.weight / total
            if point < edge:
                return variant
        return self.variants[-1]


DEFAULT_VARIANTS = VariantSet(variants=[PromptVariant(name="baseline", weight=1.0)])


def load_variants(path: Path | None) -> VariantSet:
    """The variants in ``path``; the single ``baseline`` variant when ``None``."""
    if path is None:
        return DEFAULT_VARIANTS
    try:
        raw = yaml.safe_load(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise VariantsError(f"prompt variants {path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise VariantsError(f"prompt variants {path}: not valid YAML: {exc}") from exc
    try:
        return VariantSet.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise VariantsError(f"prompt variants {path}: {loc}: {first['msg']}") from exc


@lru_cache(maxsize=1)
def configured_variants() -> VariantSet:
    return load_variants(get_llm_settings().variants_path)


def assign_variant(session_id: str, variants: VariantSet | None = None) -> str:
    """The prompt variant name for a session (stable), counted in ``salesagent_llm_variant_sessions_total``."""
    chosen = (variants or configured_variants()).assign(session_id)
    metrics.VARIANT_SESSIONS.labels(chosen.name).inc()
    return chosen.name


def record_outcome(variant: str, status: str) -> None:
    """Count a finished call's status (booked, declined, ...) for its variant: the A/B result."""
    metrics.VARIANT_OUTCOMES.labels(variant, status).inc()
