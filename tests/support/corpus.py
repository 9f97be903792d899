"""Loads the labelled corpus and scores an extractor on it through the engine's own turn.

Each entry is played the way a conversation reaches it: a session is put in the entry's state
(earlier questions done, a study chosen where the question needs one, the offered times, any
``prior`` slots), the caller's text goes through ``DialogEngine.turn`` with the extractor under
test, and the answer is read back where the call keeps it: the session's slots (name, phone, age,
weight, duration, contraindications), the proposed time (a choice among the offered ones), and
the turn's recorded extraction (the requested date, yes/no, FAQ answered, a request for a person).
So the engine's own normalisation (a phone group correction applied to the known number, a
name kept only when asked) is part of what is measured, not bypassed.

An entry is right when every label holds and no class-relevant value the label does not name
was set (a phone whose digits also became a weight is wrong; "сорок с небольшим" stored as an
age is wrong; "а картой можно" taken as a yes is wrong).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import yaml

from salesagent.clinic.profile import ClinicProfile, load_profile
from salesagent.dialog.engine import DialogEngine
from salesagent.dialog.extract.base import DateRequest, Extraction, Extractor, Intent
from salesagent.dialog.planner import ORDER
from salesagent.dialog.session import Session
from salesagent.dialog.slots import Provenance
from salesagent.dialog.states import State
from salesagent.dialog.updates import OPTIONAL_OFFERS

CORPUS_DIR = Path(__file__).resolve().parents[1] / "dialog" / "corpus"
CLASSES = ("name", "phone", "date", "time_choice", "duration", "age_weight", "yes_no", "contraindication",
           "off_script")
STUDY = "mri_knee"  # the study a mid-call session has chosen (an MRI: weight and screening are asked)
_PROPOSED = "2026-12-04T13:00:00+03:00"  # a free Friday slot, for the confirmation questions
_PRIOR = Provenance(turn=0, utterance="(corpus prior)", source="rules")


def load(split: str) -> tuple[str, list[dict[str, Any]]]:
    """(frozen now, entries) of ``dev`` or ``test``."""
    data = yaml.safe_load((CORPUS_DIR / f"{split}.yaml").read_text("utf-8"))
    return data["now"], data["entries"]


@dataclass
class Outcome:
    entry: dict[str, Any]
    got: dict[str, Any]
    ok: bool
    why: str = ""


@dataclass
class Report:
    right: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    failures: list[Outcome] = field(default_factory=list)
    turn_ms: list[float] = field(default_factory=list)  # wall time of each engine turn

    def accuracy(self, cls: str) -> float:
        return self.right[cls] / self.total[cls] if self.total[cls] else float("nan")

    def table(self) -> dict[str, tuple[int, int, float]]:
        return {c: (self.right[c], self.total[c], self.accuracy(c)) for c in CLASSES if self.total[c]}


@contextmanager
def frozen_clock(now: str):
    old = os.environ.get("SALESAGENT_NOW")
    os.environ["SALESAGENT_NOW"] = now
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SALESAGENT_NOW", None)
        else:
            os.environ["SALESAGENT_NOW"] = old


def _prepare(engine: DialogEngine, entry: dict[str, Any]) -> Session:
    """A session mid-call, waiting for the answer to ``entry['state']``."""
    profile = engine.profile
    state = State(entry["state"])
    session = engine.new_session(f"corpus-{entry['id']}")
    session.turn = 6
    session.state = state
    before = ORDER[: ORDER.index(state)] if state in ORDER else ()
    prog, slots = session.progress, session.slots
    prog.done = [s.value for s in before]
    if State.ASK_CLIENT_NAME in before:
        slots.fill("client_name", "Анна", _PRIOR)
    if State.ASK_SYMPTOMS in before:
        slots.fill("symptoms", "болит колено", _PRIOR)
    if State.ASK_STUDY_REQUEST in before:
        prog.body_part, prog.modality = "knee", "mri"
    if State.RECOMMEND_STUDY in before:
        study = profile.study(STUDY)
        slots.fill("study_id", study.id, _PRIOR)
        slots.fill("study_type", study.name, _PRIOR)
        slots.fill("price", study.price, _PRIOR)
        prog.study_confirmed, prog.price_announced_for = True, study.id
    if State.ASK_STUDY_DECISION in before:
        prog.decision_made = True
    if state == State.CONFIRM_TIME:
        prog.proposed = datetime.fromisoformat(_PROPOSED)
    if state == State.CONFIRM_APPOINTMENT:
        slots.fill("appointment_datetime", datetime.fromisoformat(_PROPOSED), _PRIOR)
    if State.ASK_PHONE in before:
        slots.fill("phone", "+79990001122", _PRIOR)
    if State.ASK_AGE_WEIGHT in before:
        slots.fill("age", 41, _PRIOR)
        slots.fill("weight", 70, _PRIOR)
    if entry.get("offered"):
        prog.offered = [datetime.fromisoformat(t) for t in entry["offered"]]
        prog.date_request = DateRequest(day=prog.offered[0].date())
    for name, value in (entry.get("prior") or {}).items():
        slots.fill(name, value, _PRIOR)
    return session


def _answer(ext: Extraction, state: State) -> str | None:
    """Yes / no the way the engine reads it: a refusal outside an optional offer ends the call (a no)."""
    intents = set(ext.intents)
    if Intent.DECLINE in intents:
        if state not in OPTIONAL_OFFERS:
            return "no"
        intents.add(Intent.NO)
    yes, no = Intent.YES in intents, Intent.NO in intents
    return "yes" if yes and not no else "no" if no and not yes else None


def _hhmm(value: clock_time | datetime | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def observe(engine: DialogEngine, entry: dict[str, Any]) -> dict[str, Any]:
    """Play one entry; what the call kept, as plain values."""
    session = _prepare(engine, entry)
    state = session.state
    before = session.slots.model_copy(deep=True)
    turn_index = session.turn
    engine.turn(session, entry["text"])
    caller = next(t for t in session.history if t.role == "caller" and t.index == turn_index)
    ext = Extraction.model_validate(caller.extraction or {})
    slots, prog = session.slots, session.progress
    date = ext.date or DateRequest()

    def changed(name: str) -> Any:
        value = getattr(slots, name)
        return value if value != getattr(before, name) or (entry.get("prior") or {}).get(name) else None

    return {
        "client_name": changed("client_name"), "phone": changed("phone"), "age": changed("age"),
        "weight": changed("weight"), "symptoms_duration": slots.symptoms_duration,
        "contraindications": sorted(slots.contraindications),
        "day": date.day.isoformat() if date.day else None, "part_of_day": date.part_of_day, "at": _hhmm(date.at),
        "time": _hhmm(prog.proposed) if prog.offered else None,
        "answer": _answer(ext, state), "faq": sorted(set(ext.faq)), "human": Intent.HUMAN in ext.intents,
        "callback": Intent.CALLBACK in ext.intents,
    }


def _norm(value: Any) -> Any:
    return " ".join(value.lower().replace("ё", "е").split()) if isinstance(value, str) else value


def _one_of(want: Any, got: Any) -> bool:
    options = want if isinstance(want, list) else [want]
    return _norm(got) in [_norm(o) for o in options]


def judge(entry: dict[str, Any], got: dict[str, Any]) -> str:
    """Empty when the entry is right, else what is wrong (for the failure list)."""
    cls, exp = entry["class"], entry["expect"]
    keys = {"name": ("client_name",), "phone": ("phone", "age", "weight"), "date": ("day", "part_of_day", "at"),
            "time_choice": ("time",), "duration": ("symptoms_duration", "age"), "age_weight": ("age", "weight"),
            "yes_no": ("answer", "human", "callback"), "contraindication": ("contraindications",),
            "off_script": ("answer", "human", "callback")}[cls]
    wrong = []
    for key in keys:
        want = exp.get(key, [] if key == "contraindications" else False if key in ("human", "callback") else None)
        if key == "contraindications":
            ok = sorted(want) == got[key]
        else:
            ok = _one_of(want, got[key]) if isinstance(want, list) else _norm(want) == _norm(got[key])
        if not ok:
            wrong.append(f"{key}={got[key]!r}")
    if cls == "contraindication" and "answer" in exp and exp["answer"] != got["answer"]:
        wrong.append(f"answer={got['answer']!r}")
    if cls == "off_script":
        faq, allowed = set(got["faq"]), set(exp.get("faq", [])) | set(exp.get("also", []))
        if not set(exp.get("faq", [])) <= faq or not faq <= allowed:
            wrong.append(f"faq={got['faq']!r}")
    return ", ".join(wrong)


def evaluate(extractor: Extractor, entries: list[dict[str, Any]], now: str,
             profile: ClinicProfile | None = None) -> Report:
    """Per-class accuracy of ``extractor`` on ``entries`` and the list of wrong ones."""
    profile = profile or load_profile()
    report = Report()
    with frozen_clock(now):
        engine = DialogEngine(profile, extractor)
        for entry in entries:
            cls = entry["class"]
            started = time.perf_counter()
            try:
                got = observe(engine, entry)
                why = judge(entry, got)
            except Exception as exc:  # a crash on one answer is a wrong answer, reported, not a lost run
                got, why = {}, f"raised {exc!r}"
            report.turn_ms.append((time.perf_counter() - started) * 1000)
            report.total[cls] += 1
            if why:
                report.failures.append(Outcome(entry, got, False, why))
            else:
                report.right[cls] += 1
    return report


def format_failures(report: Report) -> str:
    """Failures grouped by class, one per line: state | text | expected | got."""
    lines: list[str] = []
    for cls in CLASSES:
        wrong = [f for f in report.failures if f.entry["class"] == cls]
        if not wrong:
            continue
        lines.append(f"### {cls} ({len(wrong)} wrong of {report.total[cls]})")
        for f in wrong:
            e = f.entry
            lines.append(f"- {e['id']} {e['state']} | {e['text']!r} | expect {e['expect']} | got {f.why}")
    return "\n".join(lines)
