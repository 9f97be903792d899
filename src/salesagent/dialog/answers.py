"""How each question's answer is understood. A handler returns True when the caller answered it.

Only the current question's handler runs; slots volunteered for other questions were already
applied by ``updates``. A yes/no means something different after each question, which is why
this lives here and not in the extractor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from salesagent.clinic.schedule import PART_OF_DAY, is_bookable, nearest_free
from salesagent.dialog.context import TurnContext
from salesagent.dialog.extract.base import DateRequest, Intent
from salesagent.dialog.planner import NO_COMPLAINTS, candidate_study
from salesagent.dialog.slots import CallStatus
from salesagent.dialog.states import State
from salesagent.dialog.updates import blocked_modalities, choose_study, reprice, say_unavailable

Handler = Callable[[TurnContext], bool]


MAX_REJECTED_TIMES = 3  # read-backs the caller may turn down before an administrator calls back


def _yes(ctx: TurnContext) -> bool:
    return Intent.YES in ctx.ext.intents and Intent.NO not in ctx.ext.intents


def _no(ctx: TurnContext) -> bool:
    return Intent.NO in ctx.ext.intents and Intent.YES not in ctx.ext.intents


def _greeting(ctx: TurnContext) -> bool:
    return True  # whatever the caller says first, the script starts; volunteered slots are kept


def _name(ctx: TurnContext) -> bool:
    return bool(ctx.session.slots.client_name)


def _symptoms(ctx: TurnContext) -> bool:
    slots = ctx.session.slots
    if slots.symptoms:
        return True
    if _no(ctx) or (ctx.session.progress.study_confirmed and Intent.YES not in ctx.ext.intents):
        slots.fill("symptoms", NO_COMPLAINTS, ctx.provenance())
        return True
    return False


def _duration(ctx: TurnContext) -> bool:
    if ctx.session.slots.symptoms_duration:
        return True
    if Intent.DONT_KNOW in ctx.ext.intents:
        ctx.session.slots.fill("symptoms_duration", "не помнит", ctx.provenance())
        return True
    return False


def _pain(ctx: TurnContext) -> bool:
    if ctx.session.slots.pain_character:
        return True
    if _no(ctx):
        ctx.session.slots.fill("pain_character", "без боли", ctx.provenance())
        return True
    if Intent.DONT_KNOW in ctx.ext.intents:
        ctx.session.slots.fill("pain_character", "затрудняется описать", ctx.provenance())
        return True
    return False


def _visited(ctx: TurnContext) -> bool:
    if _yes(ctx) or _no(ctx):
        ctx.session.slots.fill("visited_doctor", _yes(ctx), ctx.provenance())
        return True
    return False


def _study_request(ctx: TurnContext) -> bool:
    if candidate_study(ctx.session, ctx.profile):
        return True
    return Intent.DONT_KNOW in ctx.ext.intents and ctx.session.progress.body_part is not None


def _recommend(ctx: TurnContext) -> bool:
    prog = ctx.session.progress
    if prog.study_confirmed:
        return True
    if _yes(ctx):
        study_id = candidate_study(ctx.session, ctx.profile)
        if study_id:
            choose_study(ctx, study_id)
            prog.study_confirmed = True
            return True
    if _no(ctx):
        prog.body_part = None
        prog.modality = None
        return True
    return False


def _decision(ctx: TurnContext) -> bool:
    prog = ctx.session.progress
    if _yes(ctx):
        prog.decision_made = True
        return True
    if _no(ctx):
        ctx.end(CallStatus.DECLINED)
        return True
    return False


def _bool_slot(name: str) -> Handler:
    def handler(ctx: TurnContext) -> bool:
        if _yes(ctx) or _no(ctx):
            ctx.session.slots.fill(name, _yes(ctx), ctx.provenance())
            return True
        return False

    return handler


def _date(ctx: TurnContext) -> bool:
    prog = ctx.session.progress
    if prog.proposed or (prog.date_request and prog.date_request.day):
        return True
    if Intent.DONT_KNOW in ctx.ext.intents or _yes(ctx):
        found = nearest_free(ctx.profile, ctx.now, ctx.booked)
        if found:
            prog.date_request = DateRequest(day=found[0])
            return True
    return False


def _pick_time(ctx: TurnContext) -> bool:
    prog = ctx.session.progress
    if prog.proposed:
        return True
    chosen = _chosen_offer(ctx)
    if chosen is None and ctx.changed and prog.date_request and prog.date_request.at is None:
        return True  # a new day or part of the day: the times are offered again, not a failure
    if chosen is not None and is_bookable(ctx.profile, chosen, ctx.now, ctx.booked):
        prog.proposed = chosen
        return True
    return False


def _chosen_offer(ctx: TurnContext) -> datetime | None:
    """The offered time the caller picked: by position ("второй вариант", "самое раннее"), by a
    bare hour ("в три"), by part of day when one offer falls in it ("ближе к вечеру"). A bare
    "давайте" agrees without choosing: it picks only when one time was offered."""
    offered = ctx.session.progress.offered
    if not offered:
        return None
    ext = ctx.ext
    if ext.choice is not None:
        return offered[ext.choice] if -len(offered) <= ext.choice < len(offered) else None
    number = ext.number if not _no(ctx) else None  # "ни одно не подходит" picks none
    if number is not None:
        if 1 <= number <= len(offered) and number < 8:
            return offered[number - 1]
        hour = number + 12 if number < 8 else number
        return next((s for s in offered if s.hour == hour and s.minute == 0), None)
    part = ext.date.part_of_day if ext.date and not ext.date.day and not ext.date.at else None
    if part is not None:
        lo, hi = PART_OF_DAY[part]
        inside = [s for s in offered if lo <= s.time() < hi]
        return inside[0] if len(inside) == 1 else None
    if _yes(ctx) and len(offered) == 1:
        return offered[0]
    return None


def _confirm_time(ctx: TurnContext) -> bool:
    prog, slots = ctx.session.progress, ctx.session.slots
    if prog.proposed is None:
        return True  # a correction replaced it
    if _yes(ctx):
        if is_bookable(ctx.profile, prog.proposed, ctx.now, ctx.booked):
            slots.fill("appointment_datetime", prog.proposed, ctx.provenance())
            prog.proposed = None
        else:
            say_unavailable(ctx, prog.proposed)
            prog.proposed = None
        return True
    if _no(ctx):
        prog.proposed = None
        prog.rejected_times += 1
        if prog.rejected_times > MAX_REJECTED_TIMES:
            # picking and rejecting offered times for ever is no booking: a person calls back
            ctx.events.append({"event": "progress_guard", "reason": "times_rejected"})
            ctx.phrase("times_rejected_callback")
            ctx.end(CallStatus.CALLBACK)
            return True
        req = prog.date_request or DateRequest()
        prog.date_request = DateRequest(day=req.day, part_of_day=req.part_of_day)
        return True
    return False


def _phone(ctx: TurnContext) -> bool:
    return ctx.session.slots.phone is not None


def _age_weight(ctx: TurnContext) -> bool:
    slots = ctx.session.slots
    study = ctx.profile.studies_by_id.get(slots.study_id or "")
    weight_needed = study is not None and study.modality == "mri"
    return slots.age is not None and (slots.weight is not None or not weight_needed)


def _contraindications(ctx: TurnContext) -> bool:
    prog = ctx.session.progress
    if ctx.ext.contraindications:
        prog.contraindications_checked = True
        return True
    if _no(ctx):
        prog.contraindications_checked = True
        return True
    return False


def _discounts(ctx: TurnContext) -> bool:
    prog = ctx.session.progress
    if ctx.ext.discounts and ctx.session.slots.discount:
        ctx.phrase(
            "discount_applied",
            discount_name=ctx.profile.discount(ctx.session.slots.discount).name,  # type: ignore[union-attr]
        )
        return True
    if _no(ctx):
        prog.discount_checked = True
        reprice(ctx)
        return True
    return False


def _confirm_appointment(ctx: TurnContext) -> bool:
    """Yes books the slot in the ledger; a slot another caller took meanwhile is re-offered."""
    slots, prog = ctx.session.slots, ctx.session.progress
    if not _yes(ctx) or ctx.changed:
        return False
    when = slots.appointment_datetime
    if when is None:
        return True
    study = ctx.profile.studies_by_id.get(slots.study_id or "")
    if study is None or study.modality in blocked_modalities(ctx):
        return False  # never book without a study, or one the caller cannot have (safety re-checked)
    if not is_bookable(ctx.profile, when, ctx.now, ctx.booked) or not ctx.book(when):
        say_unavailable(ctx, when)
        slots.clear("appointment_datetime")
        prog.date_request = DateRequest(day=when.date())
        return True
    prog.confirmed = True
    ctx.end(CallStatus.BOOKED)
    return True


HANDLERS: dict[State, Handler] = {
    State.GREETING: _greeting,
    State.ASK_CLIENT_NAME: _name,
    State.ASK_SYMPTOMS: _symptoms,
    State.ASK_SYMPTOMS_DURATION: _duration,
    State.ASK_PAIN_CHARACTER: _pain,
    State.ASK_VISITED_DOCTOR: _visited,
    State.ASK_STUDY_REQUEST: _study_request,
    State.RECOMMEND_STUDY: _recommend,
    State.ASK_STUDY_DECISION: _decision,
    State.OFFER_VIDEO_CONCLUSION: _bool_slot("video_conclusion"),
    State.ANNOUNCE_MEDIA_PRICE: _bool_slot("media"),
    State.ASK_APPOINTMENT_DATE: _date,
    State.OFFER_APPOINTMENT_TIMES: _pick_time,
    State.CONFIRM_TIME: _confirm_time,
    State.ASK_PHONE: _phone,
    State.ASK_AGE_WEIGHT: _age_weight,
    State.CHECK_CONTRAINDICATIONS: _contraindications,
    State.CHECK_DISCOUNTS: _discounts,
    State.CONFIRM_APPOINTMENT: _confirm_appointment,
}
