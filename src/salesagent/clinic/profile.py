"""The clinic profile: everything the agent may say about the clinic, as validated data.

Studies, prices, contraindications, discounts, documents, address, schedule and the wording of
every reply live in YAML (``data/default_profile.yaml`` ships a fictitious centre). Nothing about
a particular clinic is hard-coded in Python: an integrator edits the file, and a bad file stops
start-up with the field path and the reason (:class:`ProfileError`).
"""

from __future__ import annotations

from datetime import time
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ProfileError(ValueError):
    """The profile file is missing, not YAML, or fails validation. The message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClinicInfo(_Strict):
    name: str
    agent_name: str = Field(description="How the administrator introduces herself.")
    timezone: str = "Europe/Moscow"
    address: str
    directions: str
    parking: str
    phone: str = Field(pattern=r"^\+\d{11,15}$")
    email: str | None = None
    website: str | None = None
    working_hours_text: str
    payment: str
    results: str = Field(description="When and how the conclusion is ready.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Modality(_Strict):
    name: str = Field(description="Short spoken name: МРТ, КТ, УЗИ.")
    full_name: str
    aliases: list[str] = Field(min_length=1)


class BodyPart(_Strict):
    name: str = Field(description="Nominative, e.g. 'коленный сустав'.")
    aliases: list[str] = Field(min_length=1)
    symptoms: list[str] = Field(default_factory=list, description="Complaint words that point here.")
    recommend: str | None = Field(default=None, description="Study id to recommend for this body part.")


class Study(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    modality: str
    body_part: str
    name: str = Field(description="As written in the sheet: 'МРТ коленного сустава'.")
    price: int = Field(gt=0, description="Roubles.")
    duration_min: int = Field(gt=0)
    preparation: str = "Специальной подготовки не требуется."
    alternative: str | None = Field(default=None, description="Study id offered when this one is contraindicated.")


class PaidOption(_Strict):
    price: int = Field(gt=0)
    description: str


class Contraindication(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    aliases: list[str] = Field(min_length=1)
    applies_to: list[str] = Field(min_length=1, description="Modality ids this rules out.")
    pregnancy: bool = Field(
        default=False,
        description="Also said as a term ('я на четвёртом месяце', 'срок двенадцать недель'), not only by alias.",
    )


class Discount(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    percent: int = Field(gt=0, lt=100)
    aliases: list[str] = Field(min_length=1)
    min_age: int | None = Field(default=None, description="Applies automatically from this age.")
    conditions: str = ""


class Schedule(_Strict):
    """Bookable slots: a weekly grid of opening hours minus taken times.

    ``taken_weekly`` marks recurring busy times (maintenance, regular patients); ``taken`` marks
    concrete datetimes (local, ISO). Bookings made by the agent are kept by the session store's
    booking ledger so that two callers never get the same slot.
    """

    slot_minutes: int = Field(default=30, ge=5, le=240)
    horizon_days: int = Field(default=14, ge=1, le=90)
    min_lead_minutes: int = Field(default=60, ge=0, description="No slot sooner than this from now.")
    hours: dict[Weekday, tuple[time, time]]
    taken_weekly: dict[Weekday, list[time]] = Field(default_factory=dict)
    taken: list[str] = Field(default_factory=list)
    offer_count: int = Field(default=3, ge=1, le=6, description="How many free times to offer at once.")

    @field_validator("hours")
    @classmethod
    def _open_before_close(cls, value: dict[str, tuple[time, time]]) -> dict[str, tuple[time, time]]:
        for day, (start, end) in value.items():
            if start >= end:
                raise ValueError(f"{day}: opening time {start} is not before closing time {end}")
        return value


class FaqEntry(_Strict):
    """An off-script question the agent answers from the profile, then returns to the script."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    triggers: list[str] = Field(min_length=1, description="Phrases (lemmatised fuzzy match).")
    keywords: list[str] = Field(
        default_factory=list,
        description="Words that name the topic only inside a question ('а в выходные работаете?'): "
        "'направление' in an answer is no question about documents.",
    )
    answer: str


class Templates(_Strict):
    """Reply wording. Keys of ``states`` are state names; each holds variants for the first ask and
    re-asks. Placeholders are slot names and a few computed values (see ``dialog.replies``)."""

    states: dict[str, list[str]]
    phrases: dict[str, str | list[str]]


class NotOffered(_Strict):
    """A study callers ask for that the clinic does not do: said plainly, never silently ignored."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(description="As the agent says it: 'маммографию', 'рентген'.")
    aliases: list[str] = Field(min_length=1)


class ClinicProfile(_Strict):
    clinic: ClinicInfo
    modalities: dict[str, Modality]
    body_parts: dict[str, BodyPart]
    studies: list[Study] = Field(min_length=1)
    video_conclusion: PaidOption
    media: PaidOption
    mri_table_weight_limit_kg: int = Field(gt=30, lt=400)
    contraindications: list[Contraindication]
    discounts: list[Discount]
    documents: list[str] = Field(min_length=1)
    schedule: Schedule
    faq: list[FaqEntry]
    not_offered: list[NotOffered] = Field(default_factory=list)
    templates: Templates
    asr_prompt: str | None = Field(
        default=None,
        max_length=1000,
        description="Whisper's initial prompt, written as callers speak. Measured: natural sentences bias Whisper "
        "base far better than a word list ('МРТ колена' instead of 'маркалина'). None: the vocabulary list.",
    )
    asr_prompts: dict[str, str] = Field(
        default_factory=dict,
        description="Per dialog state (the question just asked): how callers answer it, as Whisper's prompt "
        "after the question itself. Placeholders: {study_areas}, {contraindications}. States not listed use "
        "asr_prompt.",
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> ClinicProfile:
        ids = {s.id for s in self.studies}
        if len(ids) != len(self.studies):
            raise ValueError("studies: duplicate study id")
        for study in self.studies:
            if study.modality not in self.modalities:
                raise ValueError(f"studies.{study.id}.modality: unknown modality {study.modality!r}")
            if study.body_part not in self.body_parts:
                raise ValueError(f"studies.{study.id}.body_part: unknown body part {study.body_part!r}")
            if study.alternative and study.alternative not in ids:
                raise ValueError(f"studies.{study.id}.alternative: unknown study {study.alternative!r}")
        for key, part in self.body_parts.items():
            if part.recommend and part.recommend not in ids:
                raise ValueError(f"body_parts.{key}.recommend: unknown study {part.recommend!r}")
        for item in self.contraindications:
            for modality in item.applies_to:
                if modality not in self.modalities:
                    raise ValueError(f"contraindications.{item.id}.applies_to: unknown modality {modality!r}")
        return self

    # -- lookups -------------------------------------------------------------------------------
    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.clinic.timezone)

    @cached_property
    def studies_by_id(self) -> dict[str, Study]:
        return {s.id: s for s in self.studies}

    def study(self, study_id: str) -> Study:
        return self.studies_by_id[study_id]

    def study_by_name(self, name: str) -> Study | None:
        folded = name.strip().lower()
        return next((s for s in self.studies if s.name.lower() == folded), None)

    def find_study(self, modality: str | None, body_part: str | None) -> Study | None:
        """The study for a modality and body part; without a modality, the recommended one."""
        if body_part is None:
            return None
        if modality is None:
            rec = self.body_parts[body_part].recommend
            return self.studies_by_id[rec] if rec else None
        return next((s for s in self.studies if s.modality == modality and s.body_part == body_part), None)

    def contraindication(self, cid: str) -> Contraindication | None:
        return next((c for c in self.contraindications if c.id == cid), None)

    def discount(self, did: str) -> Discount | None:
        return next((d for d in self.discounts if d.id == did), None)

    def faq_entry(self, fid: str) -> FaqEntry | None:
        return next((f for f in self.faq if f.id == fid), None)

    def vocabulary(self) -> list[str]:
        """Clinic words for ASR prompts and hotwords: modalities, body parts, studies."""
        words: list[str] = []
        for modality in self.modalities.values():
            words += [modality.name, modality.full_name]
        for part in self.body_parts.values():
            words.append(part.name)
        words += [s.name for s in self.studies]
        words += [c.name for c in self.contraindications]
        return list(dict.fromkeys(words))


def _format_error(path: Path | str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "<root>"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"clinic profile {path}: {loc}: {first['msg']}{more}"


def load_profile(path: Path | str | None = None) -> ClinicProfile:
    """Load and validate a profile; ``None`` loads the bundled default clinic."""
    if path is None:
        text = resources.files("salesagent.clinic").joinpath("data/default_profile.yaml").read_text("utf-8")
        source: Path | str = "<bundled default_profile.yaml>"
    else:
        source = Path(path)
        try:
            text = source.read_text("utf-8")
        except OSError as exc:
            raise ProfileError(f"clinic profile {source}: cannot read: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"clinic profile {source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ProfileError(f"clinic profile {source}: top level must be a mapping")
    try:
        return ClinicProfile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(_format_error(source, exc)) from exc
