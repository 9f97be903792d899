"""The extractor interface shared by the deterministic, LLM and hybrid extractors.

An extractor turns one caller utterance (ASR output: lower case, no punctuation, misheard words)
into an :class:`Extraction`: candidate slot values and intents. It does not decide what the
values mean for the script; the engine does (it knows the state, the schedule and the profile's
rules). The ``context`` tells the extractor what the agent just asked, so that a bare "сорок
пять" after "сколько вам лет" is an age, and a bare "да" after a yes/no question is an answer.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.states import State


class Intent(StrEnum):
    YES = "yes"
    NO = "no"
    DECLINE = "decline"  # "не надо", "не буду записываться", "дорого, не хочу"
    CALLBACK = "callback"  # "перезвоните позже", "сейчас неудобно"
    HUMAN = "human"  # "соедините с администратором", "хочу с человеком"
    DONT_KNOW = "dont_know"  # "не знаю", "не помню"
    CORRECTION = "correction"  # "нет, не в пятницу, а в субботу", "поправка"
    REPEAT = "repeat"  # "повторите", "не расслышал"
    # off-script questions: the value is the profile FAQ id (``faq:<id>``) via ``Extraction.faq``


class DateRequest(BaseModel):
    """A requested appointment date/time, resolved against ``now`` in the clinic's zone.

    ``day`` alone ("в пятницу"), ``at`` alone ("в десять"), both, or a ``part_of_day``
    ("после обеда" -> afternoon). ``not_day``/``not_at`` keep what a correction ruled out
    ("не в пятницу, а в субботу" -> day=saturday, not_day=friday).
    """

    model_config = ConfigDict(frozen=True)

    day: date | None = None
    at: time | None = None
    part_of_day: Literal["morning", "afternoon", "evening"] | None = None
    not_day: date | None = None
    not_at: time | None = None


class Extraction(BaseModel):
    """What one utterance says. Every field optional; empty means "nothing understood"."""

    client_name: str | None = None
    phone: str | None = Field(default=None, description="E.164 +7XXXXXXXXXX when complete")
    phone_tail: str | None = Field(default=None, description="Digits of a partial correction: 'последние цифры 68'")
    phone_partial: str | None = Field(default=None, description="Digits of a number begun, not finished: '8916'")
    age: int | None = None
    weight: int | None = None
    symptoms: str | None = None
    symptoms_duration: str | None = Field(default=None, description="Normalised, e.g. '2 недели'")
    pain_character: str | None = Field(default=None, description="острая / ноющая / тянущая / ...")
    body_part: str | None = Field(default=None, description="Profile body_parts key")
    modality: str | None = Field(default=None, description="Profile modalities key")
    contraindications: list[str] = Field(default_factory=list, description="Profile contraindication ids")
    discounts: list[str] = Field(default_factory=list, description="Profile discount ids")
    date: DateRequest | None = None
    number: int | None = Field(default=None, description="A bare number when nothing else claimed it")
    choice: int | None = Field(default=None, description="Offered time picked by position (0-based, -1 = last)")
    intents: set[Intent] = Field(default_factory=set)
    faq: list[str] = Field(default_factory=list, description="Profile FAQ ids asked about, in order")
    visited_doctor: bool | None = Field(default=None, description="'врач направил', 'к врачу не ходил'")
    not_offered: list[str] = Field(default_factory=list, description="Profile not_offered ids asked for")
    question: bool = Field(default=False, description="The caller asked something back (answered or not)")
    source: Literal["rules", "llm", "hybrid"] = "rules"

    def is_empty(self) -> bool:
        data = self.model_dump(exclude={"source"})
        return not any(v not in (None, [], set(), False) for v in data.values())


class ExtractionContext(BaseModel):
    """What the extractor may use besides the text."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    state: State
    now: datetime = Field(description="Aware, clinic time zone; resolves relative dates")
    profile: ClinicProfile
    expected: tuple[str, ...] = Field(default=(), description="Slots the current question asks for")
    history: tuple[tuple[str, str], ...] = Field(default=(), description="Recent (role, text) turns")
    phone_so_far: str | None = Field(
        default=None, description="The stored phone (E.164), else the partial digits heard so far")


@runtime_checkable
class Extractor(Protocol):
    """Turns an utterance into an Extraction. Must not raise on any text; may be async-wrapped."""

    name: str

    def extract(self, text: str, context: ExtractionContext) -> Extraction: ...
