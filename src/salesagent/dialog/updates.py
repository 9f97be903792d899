"""Slot updates that can happen at any point of the call.

A caller volunteers, corrects and asks out of order. Whatever the current question, the turn's
extraction is applied here first: stop intents, off-script questions, volunteered or corrected
slots, the requested date, and the safety rules (an MRI contraindication or weight over the table
limit switches to the alternative study or ends without booking; never an MRI booking).
"""

from __future__ import annotations

import logging
from datetime import datetime

from salesagent.clinic.schedule import is_bookable, unavailable_reason
from salesagent.dialog.caller_line import matches_line
from salesagent.dialog.context import TurnContext
from salesagent.dialog.extract.base import DateRequest, Intent
from salesagent.dialog.slots import CallStatus
from salesagent.dialog.states import State

log = logging.getLogger(__name__)

# States where "не надо" means "no to this offer", not "no to the whole call".
OPTIONAL_OFFERS = frozenset({State.OFFER_VIDEO_CONCLUSION, State.ANNOUNCE_MEDIA_PRICE, State.CHECK_DISCOUNTS})


def apply_stop_intents(ctx: TurnContext) -> bool:
    """Callback, human, decline: end the call politely with the right status. True if ended."""
    intents = ctx.ext.intents
    if Intent.HUMAN in intents:
        ctx.end(CallStatus.TRANSFERRED)
    elif Intent.CALLBACK in intents:
        ctx.end(CallStatus.CALLBACK)
    elif Intent.DECLINE in intents:
        if ctx.state in OPTIONAL_OFFERS:
            intents.add(Intent.NO)
            return False
        ctx.end(CallStatus.DECLINED)
    else:
        return False
    ctx.events.append({"event": "stop_intent", "status": ctx.session.slots.status})
    return True


def _asked_study(ctx: TurnContext):
    """The study a question names ("а сколько стоит кт головы?"), completed from what is known."""
    ext, prog = ctx.ext, ctx.session.progress
    if not ext.modality and not ext.body_part:
        return None
    return ctx.profile.find_study(ext.modality or prog.modality, ext.body_part or prog.body_part)


def answer_faq(ctx: TurnContext) -> None:
    """Answers questions back from the profile, and says plainly what the clinic does not do."""
    if ctx.ext.not_offered:
        names = [n.name for n in ctx.profile.not_offered if n.id in ctx.ext.not_offered]
        from salesagent.dialog import russian

        ctx.phrase("not_offered", not_offered=russian.join_and(names))
        ctx.answered_faq = True
    study = _asked_study(ctx) if ctx.ext.faq else None
    for faq_id in dict.fromkeys(ctx.ext.faq):
        answer = ctx.renderer.faq(faq_id, ctx.session, ctx.today, study=study)
        if answer:
            ctx.say(answer)
            ctx.answered_faq = True


def _set(ctx: TurnContext, name: str, value, source: str | None = None) -> None:
    slots = ctx.session.slots
    old = getattr(slots, name)
    if old == value:
        return
    slots.fill(name, value, ctx.provenance(source))
    ctx.changed = True
    if old not in (None, []):
        ctx.events.append({"event": "correction", "slot": name})


def apply_slots(ctx: TurnContext) -> None:
    ext, slots, prog = ctx.ext, ctx.session.slots, ctx.session.progress
    correcting = Intent.CORRECTION in ext.intents
    if ext.client_name and (slots.client_name is None or correcting or ctx.state == State.ASK_CLIENT_NAME):
        _set(ctx, "client_name", ext.client_name)
    if ext.visited_doctor is not None and slots.visited_doctor is None:
        _set(ctx, "visited_doctor", ext.visited_doctor)
    if ext.phone or (ext.phone_partial and slots.phone is None):
        _apply_phone(ctx, ext.phone, ext.phone_partial)
    elif ext.phone_tail and slots.phone:
        tail = ext.phone_tail[-10:]
        _set(ctx, "phone", slots.phone[: len(slots.phone) - len(tail)] + tail)
    if ext.age is not None:
        _set(ctx, "age", ext.age)
        _age_discount(ctx)
    if ext.weight is not None:
        _set(ctx, "weight", ext.weight)
    if ext.symptoms and (slots.symptoms is None or ctx.state == State.ASK_SYMPTOMS):
        _set(ctx, "symptoms", ext.symptoms)
    duration_asked = ctx.state in (State.ASK_SYMPTOMS_DURATION, State.ASK_SYMPTOMS, State.GREETING)
    if ext.symptoms_duration and (slots.symptoms_duration is None or duration_asked or correcting):
        # "беременна восемь недель" at the safety question is no new duration of the complaint
        _set(ctx, "symptoms_duration", ext.symptoms_duration)
    if ext.pain_character:
        _set(ctx, "pain_character", ext.pain_character)
    for cid in ext.contraindications:
        if cid not in slots.contraindications and ctx.profile.contraindication(cid):
            _set(ctx, "contraindications", [*slots.contraindications, cid])
    if ext.discounts and ctx.state == State.CHECK_DISCOUNTS:
        # only as an answer to the discount question: "уже был у врача" elsewhere is no claim
        apply_discount(ctx, ext.discounts)
    _apply_study_words(ctx)
    if ext.date is not None:
        _apply_date(ctx, ext.date)
    del prog  # progress is updated by the helpers above


def _apply_phone(ctx: TurnContext, phone: str | None, partial: str | None) -> None:
    """A dictated number, or the caller's line when what was heard is a mishearing of it
    (dialog.caller_line); the digits of an unfinished dictation are kept for the next turn."""
    prog, slots = ctx.session.progress, ctx.session.slots
    heard = phone or partial or ""
    line = matches_line(heard, ctx.session.caller_id, slots.phone)
    if line is not None:
        if line != phone:
            ctx.events.append({"event": "phone_from_caller_line", "heard_digits": len(heard)})
        _set(ctx, "phone", line, source="caller_line" if line != phone else None)
        prog.phone_partial = None
    elif phone:
        _set(ctx, "phone", phone)
        prog.phone_partial = None
    else:
        # kept for the next turn; the question is re-asked in its next wording (the voice path
        # relies on a changed prompt), and the re-ask limit still bounds a dictation that never ends
        prog.phone_partial = partial


def _apply_study_words(ctx: TurnContext) -> None:
    ext, prog, slots = ctx.ext, ctx.session.progress, ctx.session.slots
    if not ext.body_part and not ext.modality:
        return
    choosing = ctx.state in (State.GREETING, State.ASK_STUDY_REQUEST, State.RECOMMEND_STUDY, State.ASK_SYMPTOMS)
    if prog.study_confirmed and not ext.modality and not choosing:
        return  # a body part mentioned in passing does not change an agreed study
    choosing_now = ctx.state in (State.GREETING, State.ASK_STUDY_REQUEST, State.RECOMMEND_STUDY, State.ASK_SYMPTOMS,
                                 State.ASK_STUDY_DECISION)
    if prog.study_confirmed and ext.faq and not choosing_now:
        return  # "а сколько стоит КТ головы?" asks a price; it does not change the booked study
    if ext.modality and ext.modality in blocked_modalities(ctx):
        # "врач сказал именно МРТ": a modality ruled out for this caller is never chosen again, or the
        # study would flip back and forth with the safety switch; the decision question settles it.
        ctx.events.append({"event": "blocked_modality_named", "modality": ext.modality})
        return
    if ext.body_part:
        prog.body_part = ext.body_part
    if ext.modality:
        prog.modality = ext.modality
    if not ext.modality:
        return
    study = ctx.profile.find_study(prog.modality, prog.body_part)
    if study is None:
        if prog.body_part:
            part = ctx.profile.body_parts[prog.body_part].name
            modality = ctx.profile.modalities[prog.modality].name
            ctx.say(f"{modality}, область «{part}», мы, к сожалению, не делаем.")
            prog.modality = None
        return
    if study.id != slots.study_id:
        choose_study(ctx, study.id)
        prog.study_confirmed = True
        ctx.changed = True


def choose_study(ctx: TurnContext, study_id: str, source: str | None = None) -> None:
    study = ctx.profile.study(study_id)
    slots, prog = ctx.session.slots, ctx.session.progress
    prov = ctx.provenance(source)
    slots.fill("study_id", study.id, prov)
    slots.fill("study_type", study.name, prov)
    prog.body_part, prog.modality = study.body_part, study.modality
    prog.decision_made = False
    reprice(ctx)


def reprice(ctx: TurnContext) -> None:
    """Price of the chosen study after the caller's discount (integer roubles)."""
    slots = ctx.session.slots
    study = ctx.profile.studies_by_id.get(slots.study_id or "")
    if study is None:
        return
    price = study.price
    discount = ctx.profile.discount(slots.discount) if slots.discount else None
    if discount:
        price = round(study.price * (100 - discount.percent) / 100)
    slots.fill("price", price, ctx.provenance("profile"))


def apply_discount(ctx: TurnContext, ids: list[str]) -> None:
    known = [d for d in (ctx.profile.discount(i) for i in ids) if d]
    if not known:
        return
    best = max(known, key=lambda d: d.percent)
    ctx.session.progress.discount_checked = True
    if ctx.session.slots.discount != best.id:
        _set(ctx, "discount", best.id)
        reprice(ctx)


def _age_discount(ctx: TurnContext) -> None:
    """A discount with an age threshold (pensioners) applies by itself; the caller is told."""
    age = ctx.session.slots.age
    if age is None or ctx.session.slots.discount:
        return
    eligible = [d for d in ctx.profile.discounts if d.min_age is not None and age >= d.min_age]
    if eligible:
        apply_discount(ctx, [d.id for d in eligible])
        if ctx.session.slots.study_id:
            ctx.phrase("discount_applied", discount_name=ctx.session.slots.discount and eligible[0].name)


def _apply_date(ctx: TurnContext, req: DateRequest) -> None:
    prog, slots = ctx.session.progress, ctx.session.slots
    old = prog.date_request or DateRequest()
    day = req.day or (None if req.not_day and old.day == req.not_day else old.day)
    at = req.at
    if req.day and not req.at and old.day != req.day:
        at = None  # a new day without a time: offer that day's times
    elif at is None and req.not_at is None and req.day is None:
        at = old.at
    part = req.part_of_day or (old.part_of_day if req.day in (None, old.day) else None)
    merged = DateRequest(day=day, at=at, part_of_day=part)
    if merged == prog.date_request and (slots.appointment_datetime or prog.proposed):
        return
    had_booking = slots.appointment_datetime is not None or prog.proposed is not None
    prog.date_request = merged
    changed_before = ctx.changed
    ctx.changed = True
    if had_booking:
        new_time = _target(ctx, merged)
        current = slots.appointment_datetime or prog.proposed
        if new_time == current:
            return
        slots.clear("appointment_datetime")
        prog.proposed = None
        prog.confirmed = False
        ctx.events.append({"event": "correction", "slot": "appointment_datetime"})
    target = _target(ctx, merged)
    if target is not None:
        if is_bookable(ctx.profile, target, ctx.now, ctx.booked):
            prog.proposed = target
        else:
            say_unavailable(ctx, target)
            prog.date_request = DateRequest(day=merged.day, part_of_day=merged.part_of_day)
            # asking again for a time that cannot be had is no progress (the guard must still count)
            ctx.changed = changed_before or (merged.day, merged.part_of_day) != (old.day, old.part_of_day)


def say_unavailable(ctx: TurnContext, when: datetime) -> None:
    """Tell the caller why a time cannot be had: passed, closed, beyond the horizon or taken."""
    reason = unavailable_reason(ctx.profile, when, ctx.now, ctx.booked) or "taken"
    ctx.phrase({"passed": "slot_passed", "closed": "slot_closed", "beyond_horizon": "beyond_horizon"}.get(
        reason, "slot_taken"))


def _target(ctx: TurnContext, req: DateRequest) -> datetime | None:
    day = req.day
    if req.at is not None and day is None and ctx.session.progress.offered:
        day = ctx.session.progress.offered[0].date()
    if day is None or req.at is None:
        return None
    return datetime.combine(day, req.at, tzinfo=ctx.profile.tz)


def enforce_safety(ctx: TurnContext) -> None:
    """Never book an MRI for a caller with a contraindication or over the table's weight limit."""
    slots, prog, profile = ctx.session.slots, ctx.session.progress, ctx.profile
    if ctx.ended:
        return
    study = profile.studies_by_id.get(slots.study_id or "")
    if study is None:
        return
    blocked = blocked_modalities(ctx)
    if study.modality not in blocked:
        return
    reason = "overweight" if (blocked[study.modality] == "overweight") else "contraindicated"
    alternative = profile.studies_by_id.get(study.alternative or "")
    ctx.events.append({"event": "safety_switch", "from": study.id, "reason": reason})
    if alternative is not None and alternative.modality not in blocked:
        prog.switched_from = study.id
        choose_study(ctx, alternative.id, source="engine")
        prog.study_confirmed = True
        prog.price_announced_for = alternative.id
        ctx.phrase(f"{reason}_alternative", study=alternative.name, price=_price_text(ctx))
        ctx.asked = State.ASK_STUDY_DECISION
        prog.undo(State.ASK_STUDY_DECISION)
    else:
        ctx.phrase(f"{reason}_no_alternative")
        slots.clear("appointment_datetime")
        ctx.end(CallStatus.CONTRAINDICATED)


def _price_text(ctx: TurnContext) -> str:
    from salesagent.dialog import russian

    return russian.price(ctx.session.slots.price or 0)


def blocked_modalities(ctx: TurnContext) -> dict[str, str]:
    """Modality -> why it cannot be booked for this caller (a contraindication id or "overweight")."""
    slots, profile = ctx.session.slots, ctx.profile
    blocked: dict[str, str] = {}
    for cid in slots.contraindications:
        item = profile.contraindication(cid)
        if item:
            for modality in item.applies_to:
                blocked.setdefault(modality, cid)
    if slots.weight is not None and slots.weight > profile.mri_table_weight_limit_kg:
        blocked["mri"] = "overweight"
    return blocked
