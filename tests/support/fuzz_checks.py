"""Invariants every fuzzed call must hold, whatever the caller said (issue 9, "What must be true" 1).

The checks read only what an outsider sees: the ``/dialog`` answers, ``GET /session/{id}`` and
the lead row in the outbox. Slot rules are recomputed here from the profile's schedule data
(opening hours, slot grid, taken times, horizon), not with the engine's own schedule code, so an
engine bug cannot hide behind itself.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from salesagent.dialog.graph import MAX_STALLED_ASKS, MAX_TURNS
from salesagent.notify.lead import COLUMNS

from .fuzz import MAX_CALLER_TURNS, CallRecord
from .fuzz_pools import MONTHS
from .fuzz_safety import heard_safety

STALL_LIMIT = MAX_STALLED_ASKS + 2
"""Asks of one question with nothing changing (no slot, not the times on offer): the engine's own
stall guard plus a margin of two, since the engine also counts progress a caller cannot see."""
TURN_LIMIT = MAX_TURNS + 1
"""Caller turns of a call that ended: the engine's turn guard, plus the turn that says goodbye."""
CYCLE_REPEATS = MAX_STALLED_ASKS + 1
"""A window of states repeated back to back this many times in the path is a loop: the engine's
stall guard lets one question come back MAX_STALLED_ASKS times, never more."""
APPOINTMENT_COLUMN = COLUMNS.index("Дата/время записи")
STATUS_COLUMN = COLUMNS.index("Статус")
DATE_RE = re.compile(r"\b(\d{1,2}) (" + "|".join(MONTHS) + r")\b")
TIME_RE = re.compile(r"\b(\d{1,2}):(\d{2})\b")
TIME_STATES = frozenset({"OFFER_APPOINTMENT_TIMES", "CONFIRM_TIME", "CONFIRM_APPOINTMENT"})


@dataclass(frozen=True)
class Violation:
    kind: str
    index: int
    detail: str


def slot_problem(profile, when: datetime, now: datetime) -> str | None:
    """Why ``when`` is not a free, future, in-horizon slot of the profile's grid (None: it is)."""
    sched = profile.schedule
    local = when.astimezone(profile.tz)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
    hours = sched.hours.get(day)
    if hours is None:
        return f"{local:%a %d.%m %H:%M}: closed that day"
    opens = datetime.combine(local.date(), hours[0], tzinfo=profile.tz)
    closes = datetime.combine(local.date(), hours[1], tzinfo=profile.tz)
    step = timedelta(minutes=sched.slot_minutes)
    if local < opens or local + step > closes:
        return f"{local:%a %d.%m %H:%M}: outside opening hours {hours[0]:%H:%M}-{hours[1]:%H:%M}"
    if (local - opens) % step:
        return f"{local:%a %d.%m %H:%M}: not on the {sched.slot_minutes}-minute grid"
    taken = {t.strftime("%H:%M") for t in sched.taken_weekly.get(day, [])}
    taken_dates = {datetime.fromisoformat(t).replace(tzinfo=None) for t in sched.taken}
    if local.strftime("%H:%M") in taken or local.replace(tzinfo=None) in taken_dates:
        return f"{local:%a %d.%m %H:%M}: taken in the schedule"
    if local < now + timedelta(minutes=sched.min_lead_minutes):
        return f"{local:%a %d.%m %H:%M}: not in the future (now {now:%d.%m %H:%M}, lead {sched.min_lead_minutes} min)"
    if local.date() > (now + timedelta(days=sched.horizon_days)).date():
        return f"{local:%a %d.%m %H:%M}: beyond the {sched.horizon_days}-day horizon"
    return None


def _spoken_date(day: int, month_word: str, now: datetime) -> date | None:
    month = MONTHS.index(month_word) + 1
    year = now.year if (month, day) >= (now.month, max(1, now.day - 1)) else now.year + 1
    try:
        return date(year, month, day)
    except ValueError:
        return None


def spoken_slots(reply: str, state: str, last_day: date | None, now: datetime, profile) -> list[datetime]:
    """Times the agent offers or reads back in ``reply``, each on the day named before it."""
    out = []
    dates = [(m.start(), _spoken_date(int(m.group(1)), m.group(2), now)) for m in DATE_RE.finditer(reply)]
    for m in TIME_RE.finditer(reply):
        before = [d for pos, d in dates if pos < m.start()]
        day = before[-1] if before else (last_day if state == "OFFER_APPOINTMENT_TIMES" else None)
        hour, minute = int(m.group(1)), int(m.group(2))
        if day is not None and hour < 24 and minute < 60:
            out.append(datetime(day.year, day.month, day.day, hour, minute, tzinfo=profile.tz))
    return out


def _path_cycle(path: list[str]) -> str | None:
    for size in range(2, 7):
        for start in range(len(path) - size * CYCLE_REPEATS + 1):
            window = path[start : start + size]
            if len(set(window)) < size:
                continue
            reps = 1
            while path[start + reps * size : start + (reps + 1) * size] == window:
                reps += 1
            if reps >= CYCLE_REPEATS:
                return f"{' -> '.join(window)} x{reps}"
    return None


def _progress(rec: CallRecord, profile, now: datetime) -> list[Violation]:
    """No question asked more than STALL_LIMIT times while nothing moved, no loop of states.

    "Moved" is what an outsider can see: the slots, or the times on offer (a caller asking for
    the evening and being offered evening times is progress even though no slot changed).
    """
    out = []
    asks: Counter[str] = Counter()
    previous: tuple | None = None
    worst: tuple[int, str] = (0, "")
    last_day: date | None = None
    for turn in rec.turns:
        if turn.code != 200 or turn.done:
            continue
        offered = tuple(spoken_slots(turn.reply, turn.state, last_day, now, profile)) if turn.state in TIME_STATES else ()
        days = DATE_RE.findall(turn.reply)
        if days:
            last_day = _spoken_date(int(days[-1][0]), days[-1][1], now) or last_day
        signature = (turn.slots, offered)
        if signature != previous:
            asks.clear()
            previous = signature
        asks[turn.state] += 1
        worst = max(worst, (asks[turn.state], turn.state))
    if worst[0] > STALL_LIMIT:
        out.append(Violation("no_progress", rec.index,
                             f"{worst[1]} asked {worst[0]} times in a row with no slot and no offer changing"))
    cycle = _path_cycle((rec.session or {}).get("path") or [])
    if cycle:
        out.append(Violation("state_cycle", rec.index, cycle))
    if rec.done and rec.caller_turns > TURN_LIMIT:
        out.append(Violation("too_many_turns", rec.index, f"ended after {rec.caller_turns} caller turns"))
    return out


def _transport(rec: CallRecord) -> list[Violation]:
    out = []
    for turn in rec.turns:
        if turn.code >= 500 or turn.code == -1:
            out.append(Violation("http_5xx", rec.index, f"{turn.code} for {turn.text[:80]!r}: {turn.reply[:200]}"))
        elif turn.code != 200:
            out.append(Violation("http_4xx", rec.index, f"{turn.code} for {turn.text[:80]!r}: {turn.reply[:200]}"))
    if not rec.done and all(t.code == 200 for t in rec.turns):
        out.append(Violation("never_ends", rec.index, f"not done after {rec.caller_turns} caller turns"))
    return out


def _booking(rec: CallRecord, profile, now: datetime) -> list[Violation]:
    out = []
    slots = (rec.session or {}).get("slots") or {}
    status = slots.get("status")
    row = rec.lead_row
    when = slots.get("appointment_datetime")

    def bad(kind: str, detail: str) -> None:
        out.append(Violation(kind, rec.index, detail))

    if rec.done and not status:
        bad("no_status", "the call ended without a status")
    if rec.done and row is None:
        bad("lead_missing", "the call ended but no lead is in the outbox")
    if status != "booked":
        if when:
            bad("phantom_appointment", f"status {status} but appointment_datetime {when}")
        if row is not None and row[APPOINTMENT_COLUMN]:
            bad("phantom_lead_date", f"status {status} but the lead says «{row[APPOINTMENT_COLUMN]}»")
        if row is not None and row[STATUS_COLUMN] == "записан":
            bad("lead_status_mismatch", f"status {status} but the lead says записан")
        return out
    if not when:
        bad("booked_without_appointment", "booked with no appointment_datetime")
    if not slots.get("phone"):
        bad("booked_without_phone", "booked with no phone")
    if not slots.get("study_id"):
        bad("booked_without_study", "booked with no study")
    if row is not None and (not row[APPOINTMENT_COLUMN] or row[STATUS_COLUMN] != "записан"):
        bad("lead_status_mismatch", f"booked but the lead row says {row[APPOINTMENT_COLUMN]!r} / {row[STATUS_COLUMN]}")
    if when:
        local = datetime.fromisoformat(when).astimezone(profile.tz)
        problem = slot_problem(profile, local, now)
        if problem:
            bad("booked_bad_slot", problem)
        if row is not None and row[APPOINTMENT_COLUMN] and row[APPOINTMENT_COLUMN] != f"{local:%d.%m.%Y %H:%M}":
            bad("lead_status_mismatch", f"booked {local:%d.%m %H:%M} but the lead says {row[APPOINTMENT_COLUMN]}")
    out.extend(_safety(rec, slots, profile))
    return out


def _safety(rec: CallRecord, slots: dict, profile) -> list[Violation]:
    study = profile.studies_by_id.get(slots.get("study_id") or "")
    if study is None:
        return []
    out = []
    for cid in slots.get("contraindications") or []:
        item = profile.contraindication(cid)
        if item and study.modality in item.applies_to:
            out.append(Violation("unsafe_booking", rec.index, f"{study.id} booked with contraindication {cid}"))
    weight = slots.get("weight")
    if study.modality == "mri" and weight is not None and weight > profile.mri_table_weight_limit_kg:
        out.append(Violation("unsafe_booking", rec.index, f"{study.id} booked at {weight} kg"))
    return out


def _offers(rec: CallRecord, profile, now: datetime) -> list[Violation]:
    out = []
    last_day: date | None = None
    for turn in rec.turns:
        if turn.code != 200:
            continue
        final_booked = turn.done and turn.slots.get("status") == "booked"
        if turn.state in TIME_STATES or final_booked:
            for when in spoken_slots(turn.reply, turn.state, last_day, now, profile):
                problem = slot_problem(profile, when, now)
                if problem:
                    out.append(Violation("offered_bad_slot", rec.index, f"{turn.state}: {problem}"))
        days = DATE_RE.findall(turn.reply)
        if days:
            last_day = _spoken_date(int(days[-1][0]), days[-1][1], now) or last_day
    return out


def check_call(rec: CallRecord, profile, now: datetime) -> list[Violation]:
    """Every per-call invariant; an empty list means the call held them all."""
    return [*_transport(rec), *_booking(rec, profile, now), *_progress(rec, profile, now),
            *_offers(rec, profile, now), *heard_safety(rec, profile)]


def _booked(records: list[CallRecord]) -> list[tuple[CallRecord, str]]:
    out = []
    for rec in records:
        slots = (rec.session or {}).get("slots") or {}
        if slots.get("status") == "booked" and slots.get("appointment_datetime"):
            out.append((rec, slots["appointment_datetime"]))
    return out


def check_run(records: list[CallRecord], profile, now: datetime, ledger: list[datetime] | None = None) -> list[Violation]:
    """Invariants across the calls of one run (one booking ledger).

    No slot booked twice; no slot offered to a caller once another call's booking of it had been
    answered (the request that offered it was sent after the booking turn came back); and the
    ledger holds exactly the bookings of the calls that ended ``booked``.
    """
    out = []
    booked = _booked(records)
    seen: dict[str, int] = {}
    for rec, when in booked:
        if when in seen:
            out.append(Violation("double_booking", rec.index, f"{when} also booked by call {seen[when]}"))
        seen.setdefault(when, rec.index)
    committed = {datetime.fromisoformat(when): (rec.index, rec.turns[-1].received) for rec, when in booked}
    for rec in records:
        last_day: date | None = None
        for turn in rec.turns:
            if turn.code == 200 and turn.state == "OFFER_APPOINTMENT_TIMES":
                for slot in spoken_slots(turn.reply, turn.state, last_day, now, profile):
                    owner = committed.get(slot)
                    if owner and owner[0] != rec.index and turn.sent > owner[1]:
                        out.append(Violation("offered_booked_slot", rec.index,
                                             f"offered {slot:%d.%m %H:%M}, booked earlier by call {owner[0]}"))
            days = DATE_RE.findall(turn.reply)
            if days:
                last_day = _spoken_date(int(days[-1][0]), days[-1][1], now) or last_day
    if ledger is not None:
        held = {w.astimezone(profile.tz) for w in ledger}
        calls = {datetime.fromisoformat(when) for _, when in booked}
        for when in sorted(held - calls):
            out.append(Violation("ledger_phantom", -1, f"{when:%d.%m %H:%M} held in the ledger by no booked call"))
        for rec, when in booked:
            if datetime.fromisoformat(when) not in held:
                out.append(Violation("ledger_missing", rec.index, f"booked {when} but the ledger does not hold it"))
    return out


def transcript(rec: CallRecord) -> str:
    """The call as text, plus the caller's lines as a list to replay in a test."""
    lines = [f"call {rec.index} (seed {rec.seed}:{rec.index}, persona {rec.persona}, session {rec.session_id}) "
             f"status={rec.status} caller turns={rec.caller_turns} max={MAX_CALLER_TURNS} body={rec.body}"]
    for turn in rec.turns:
        if turn.kind != "start":
            lines.append(f"    caller ({turn.kind}): {turn.text[:300]!r}")
        lines.append(f"  [{turn.state or turn.code}] agent: {turn.reply[:400]}")
    slots = (rec.session or {}).get("slots") or {}
    lines.append(f"  final slots: { {k: v for k, v in slots.items() if k != 'provenance' and v not in (None, [])} }")
    lines.append(f"  lead row: {rec.lead_row}")
    lines.append(f"  replay: {[t.text for t in rec.turns[1:]]!r}")
    return "\n".join(lines)
