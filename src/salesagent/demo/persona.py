"""Simulated caller personas: scripted lines keyed by the dialog state, as YAML data.

The "script sheet": after the agent speaks, the persona reads the state the agent is in from the
session (through ``DialogService``; the honest equivalent of a person knowing which question
they were just asked) and says that state's next line. Asked the same question again (the agent
misheard), it moves to the state's next, rephrased line.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError


class PersonaError(ValueError):
    """No such persona, or its YAML is not a valid persona."""


class Voice(BaseModel):
    """How the simulated caller sounds: never the agent's own voice, so the agent's ASR is not
    tuned to itself."""

    name: str = Field(default="festival", pattern=r"^(festival|rhvoice:[a-z]+)$",
                      description="festival (msu_ru_nsh) or an RHVoice voice: rhvoice:anna, rhvoice:aleksandr, ...")
    pitch_cents: int = Field(default=250, ge=-1200, le=1200)
    tempo: float = Field(default=1.0, gt=0.5, lt=2.0)


class Persona(BaseModel):
    name: str
    description: str = ""
    caller_id: str | None = None
    voice: Voice = Field(default_factory=Voice)
    style: Literal["patient", "impatient"] = "patient"
    barge_in_after_s: float = Field(default=1.2, gt=0, le=30)
    hangup_when_done: bool = False
    expect_status: str = "booked"
    lines: dict[str, list[str]]
    default: list[str] = Field(default_factory=lambda: ["Да."])
    phone: str | None = Field(default=None, pattern=r"^\+7\d{10}$",
                              description="The number the persona dictates; a read-back that differs is corrected.")
    phone_correction: list[str] = Field(default_factory=list,
                                        description="What the persona says when the agent read back another number.")

    def correction_for(self, state: str, heard_phone: str | None, attempt: int) -> str | None:
        """A real caller listens to the read-back: at the confirmation, a wrong number is corrected."""
        if state != "CONFIRM_APPOINTMENT" or not self.phone or not self.phone_correction or heard_phone is None:
            return None
        if heard_phone == self.phone:
            return None
        return self.phone_correction[min(attempt, len(self.phone_correction) - 1)]

    def line(self, state: str, attempt: int) -> str:
        """The line for ``state`` on the ``attempt``-th time it is asked (0-based); the last repeats."""
        options = self.lines.get(state) or self.default
        return options[min(attempt, len(options) - 1)]

    def all_lines(self) -> list[str]:
        seen: dict[str, None] = {}
        for options in (*self.lines.values(), self.default, self.phone_correction):
            for text in options:
                seen.setdefault(text, None)
        return list(seen)


def _bundled() -> dict[str, Path]:
    folder = resources.files("salesagent.demo") / "personas"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml")}


def persona_names() -> list[str]:
    return sorted(_bundled())


def load_persona(name_or_path: str) -> Persona:
    """A bundled persona by name (``anna``, ``quick``) or a YAML file path."""
    bundled = _bundled()
    path = bundled.get(name_or_path) or Path(name_or_path)
    if not path.is_file():
        raise PersonaError(f"no persona {name_or_path!r}: use one of {', '.join(sorted(bundled))} or a YAML path")
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
        return Persona.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise PersonaError(f"persona {path}: {str(exc).splitlines()[0]}") from None
