"""Bookable slots from the profile's weekly grid, minus taken times and the agent's own bookings.

Only free slots are ever offered or booked. ``booked`` is what the booking ledger (the session
store) knows other callers took, so two concurrent calls never get the same time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from salesagent.clinic.profile import WEEKDAYS, ClinicProfile

PART_OF_DAY: dict[str, tuple[time, time]] = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59)),
}


def day_slots(profile: ClinicProfile, day: date) -> list[datetime]:
    """Every slot start of the working day (aware, clinic zone), free or not."""
    sched = profile.schedule
    hours = sched.hours.get(WEEKDAYS[day.weekday()])
    if hours is None:
        return []
    start = datetime.combine(day, hours[0], tzinfo=profile.tz)
    end = datetime.combine(day, hours[1], tzinfo=profile.tz)
    step = timedelta(minutes=sched.slot_minutes)
    out = []
    cur = start
    while cur + step <= end:
        out.append(cur)
        cur += step
    return out


def _taken(profile: ClinicProfile, day: date) -> set[time]:
    sched = profile.schedule
    taken = set(sched.taken_weekly.get(WEEKDAYS[day.weekday()], []))
    for iso in sched.taken:
        dt = datetime.fromisoformat(iso)
        if dt.date() == day:
            taken.add(dt.time().replace(tzinfo=None))
    return taken


def is_bookable(profile: ClinicProfile, when: datetime, now: datetime, booked: Iterable[datetime] = ()) -> bool:
    """True when ``when`` is a slot start of the grid, free, within the horizon and not too soon."""
    when = when.astimezone(profile.tz)
    if when not in day_slots(profile, when.date()):
        return False
    if when.time() in _taken(profile, when.date()):
        return False
    if when < now + timedelta(minutes=profile.schedule.min_lead_minutes):
        return False
    if when.date() > (now + timedelta(days=profile.schedule.horizon_days)).date():
        return False
    return when not in {b.astimezone(profile.tz) for b in booked}


def unavailable_reason(profile: ClinicProfile, when: datetime, now: datetime,
                       booked: Iterable[datetime] = ()) -> str | None:
    """Why ``when`` cannot be booked, so the caller hears the true reason: "passed" (already gone
    or too soon), "beyond_horizon", "closed" (not a slot of that day's hours), "taken"; None if bookable."""
    when = when.astimezone(profile.tz)
    if when < now + timedelta(minutes=profile.schedule.min_lead_minutes):
        return "passed"
    if when.date() > (now + timedelta(days=profile.schedule.horizon_days)).date():
        return "beyond_horizon"
    if when not in day_slots(profile, when.date()):
        return "closed"
    if is_bookable(profile, when, now, booked):
        return None
    return "taken"


def free_slots(
    profile: ClinicProfile,
    day: date,
    now: datetime,
    booked: Iterable[datetime] = (),
    part_of_day: str | None = None,
) -> list[datetime]:
    """Free slot starts on ``day``, optionally only in a part of the day."""
    booked_set = {b.astimezone(profile.tz) for b in booked}
    out = [s for s in day_slots(profile, day) if is_bookable(profile, s, now, booked_set)]
    if part_of_day:
        lo, hi = PART_OF_DAY[part_of_day]
        out = [s for s in out if lo <= s.time() < hi]
    return out


def nearest_free(
    profile: ClinicProfile,
    now: datetime,
    booked: Iterable[datetime] = (),
    after: date | None = None,
    part_of_day: str | None = None,
) -> tuple[date, list[datetime]] | None:
    """The first day from ``after`` (default today) that has free slots, and those slots."""
    booked_list = list(booked)
    day = after or now.date()
    last = (now + timedelta(days=profile.schedule.horizon_days)).date()
    while day <= last:
        slots = free_slots(profile, day, now, booked_list, part_of_day)
        if slots:
            return day, slots
        day += timedelta(days=1)
    return None


def spread(slots: list[datetime], count: int, near: time | None = None) -> list[datetime]:
    """Pick ``count`` slots to offer: around ``near`` when the caller named a time, else spread
    over the day so morning, midday and evening are all on offer."""
    if len(slots) <= count:
        return slots
    if near is not None:
        minutes = near.hour * 60 + near.minute
        ranked = sorted(slots, key=lambda s: abs(s.hour * 60 + s.minute - minutes))
        return sorted(ranked[:count])
    step = (len(slots) - 1) / (count - 1) if count > 1 else 0
    return [slots[round(i * step)] for i in range(count)]
