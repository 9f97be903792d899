"""Play a set of reactive callers on a live server and score the checks each persona lists.

Scored like issue 9: one check per expected slot and one for the status; every caller also gets
an appointment check (booked: the lead's time is the caller's wish; not booked: no appointment
anywhere, neither in the slots nor in the lead's "Дата/время записи"). Invariants are the fuzzer's
own (``fuzz_checks.check_call`` and ``check_run``), so a reactive caller breaks the same rules.
Callers play one after another in file order on one server: the booking ledger is shared, so
the order is part of the measurement and is kept fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import httpx

from .callers import Persona, ReactiveCaller, load_personas, wish_problem
from .fuzz import CallRecord
from .fuzz_checks import APPOINTMENT_COLUMN, Violation, check_call, check_run

SLOT_CHECKS = ("client_name", "phone", "study_id", "modality", "symptoms_duration", "age", "weight",
               "contraindications", "discount", "video_conclusion", "media")


@dataclass(frozen=True)
class Check:
    caller: str
    name: str
    expected: object
    got: object
    ok: bool
    detail: str = ""


@dataclass
class SetResult:
    name: str
    personas: list[Persona] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def right(self) -> int:
        return sum(c.ok for c in self.checks)

    def callers_right(self) -> int:
        wrong = {c.caller for c in self.checks if not c.ok}
        return sum(p.id not in wrong for p in self.personas)

    def never_ended(self) -> int:
        return sum(not r.done for r in self.records)

    def phantoms(self) -> int:
        return sum(v.kind in ("phantom_appointment", "phantom_lead_date") for v in
                   {(v.kind, v.index): v for v in self.violations}.values())


def _norm(value) -> object:
    if isinstance(value, str):
        return " ".join(value.lower().replace("ё", "е").split())
    return value


def _matches(expected, got) -> bool:
    """``expected`` may be a list of acceptable values (a scalar slot) or the exact list (contraindications)."""
    if isinstance(expected, list) and not isinstance(got, list):
        return any(_norm(e) == _norm(got) for e in expected)
    if isinstance(expected, list):
        return sorted(expected) == sorted(got or [])
    return _norm(expected) == _norm(got)


def _said_since(persona: Persona, got) -> bool:
    """A "since" phrase kept as the caller said it ("с весны", "с прошлой осени") is a right duration:
    a lead reader understands it, and turning a season into months would only guess."""
    if not isinstance(got, str) or not _norm(got).startswith("с "):
        return False
    said = " ".join(str(s) for s in persona.answers.get("duration", []))
    return _norm(got) in _norm(said)


def _appointment(persona: Persona, slots: dict, lead_row, offered: list, profile) -> Check:
    when = slots.get("appointment_datetime")
    lead_when = lead_row[APPOINTMENT_COLUMN] if lead_row else ""
    if persona.expect.get("status") != "booked":
        ok = not when and not lead_when
        return Check(persona.id, "appointment", "none", when or lead_when or None, ok)
    if not when:
        return Check(persona.id, "appointment", persona.wish, None, False)
    local = datetime.fromisoformat(when).astimezone(profile.tz)
    problem = wish_problem(persona.wish, local.date(), f"{local:%H:%M}", offered)
    return Check(persona.id, "appointment", persona.wish, f"{local:%a %d.%m %H:%M}", problem is None, problem or "")


def score(persona: Persona, rec: CallRecord, offered: list, profile) -> list[Check]:
    """Every check the persona lists, against the session's final slots and the lead."""
    slots = (rec.session or {}).get("slots") or {}
    out = [Check(persona.id, "status", persona.expect.get("status"), slots.get("status"),
                 slots.get("status") == persona.expect.get("status"))]
    for name in SLOT_CHECKS:
        if name not in persona.expect:
            continue
        expected = persona.expect[name]
        if name == "modality":
            study = profile.studies_by_id.get(slots.get("study_id") or "")
            got = study.modality if study else None
        else:
            got = slots.get(name)
        ok = _matches(expected, got) or (name == "symptoms_duration" and _said_since(persona, got))
        out.append(Check(persona.id, name, expected, got, ok))
    out.append(_appointment(persona, slots, rec.lead_row, offered, profile))
    return out


def run_set(profile, set_name: str, seed: str = "1", personas: list[Persona] | None = None) -> SetResult:
    """Play the set on a fresh live server (its own store, ledger and outbox) and score it."""
    from .fuzz_run import frozen_now, live_server

    result = SetResult(set_name, personas or load_personas(set_name))
    now = frozen_now(profile)
    with live_server(profile) as (url, outbox, service), httpx.Client(base_url=url, timeout=60) as client:
        offers = []
        for index, persona in enumerate(result.personas):
            caller = ReactiveCaller(client, persona, index, seed, now)
            rec = caller.play()
            entry = outbox.get(rec.session_id)
            rec.lead_row = entry.row if entry else None
            result.records.append(rec)
            offers.append(caller.offered)
        ledger = service.store.booked()
    for persona, rec, offered in zip(result.personas, result.records, offers, strict=True):
        result.checks.extend(score(persona, rec, offered, profile))
        result.violations.extend(check_call(rec, profile, now))
    result.violations.extend(check_run(result.records, profile, now, ledger))
    return result


def tail(rec: CallRecord, turns: int = 8) -> str:
    """The last ``turns`` exchanges of a call, caller then agent, with the kind the caller heard."""
    heard = (rec.body or {}).get("heard") or []
    lines = []
    start = max(1, len(rec.turns) - turns)
    for i in range(start, len(rec.turns)):
        turn, before = rec.turns[i], rec.turns[i - 1]
        kind = heard[i - 1] if i - 1 < len(heard) else "?"
        lines.append(f"    agent [{before.state}]: {before.reply[:220]}")
        lines.append(f"    caller (heard {kind}): {turn.text!r}")
    last = rec.turns[-1] if rec.turns else None
    if last is not None:
        lines.append(f"    agent [{last.state}{' done' if last.done else ''}]: {last.reply[:220]}")
    return "\n".join(lines)
