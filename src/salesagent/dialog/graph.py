"""The clinic script as a LangGraph state machine.

One graph run is one caller turn. ``understand`` applies the utterance (stop intents, off-script
answers, volunteered and corrected slots, safety rules, the current question's answer); then the
graph walks the script: "say" states (price, documents, address, contacts) speak and continue,
a question state speaks and ends the run, waiting for the caller. The planner picks every edge,
so the graph is the script order plus the skips and returns that real calls need.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from langgraph.graph import END as GRAPH_END
from langgraph.graph import START, StateGraph

from salesagent.clinic.schedule import free_slots, nearest_free, spread
from salesagent.dialog import russian
from salesagent.dialog.answers import HANDLERS
from salesagent.dialog.context import TurnContext
from salesagent.dialog.extract.base import DateRequest, Intent
from salesagent.dialog.planner import ESSENTIAL, SAY_STATES, Planner
from salesagent.dialog.slots import CallStatus
from salesagent.dialog.states import State
from salesagent.dialog.updates import answer_faq, apply_slots, apply_stop_intents, enforce_safety

MAX_REASKS = 2  # a question not understood is re-asked this many times, then given up
MAX_STALLED_ASKS = 5  # asks of one question without any slot changing (off-script questions, "повторите")
MAX_TURNS = 45  # caller turns: a real booking takes about 20; past this the call ends in a human callback


class GraphState(TypedDict):
    ctx: TurnContext


def _understand(planner: Planner):
    def node(gs: GraphState) -> GraphState:
        ctx = gs["ctx"]
        session = ctx.session
        if session.turn == 0 and not ctx.text.strip():
            ctx.next = State.GREETING
            return gs
        state = session.state
        slots_before = session.slots.model_dump(exclude={"provenance"})
        offered_before = list(session.progress.offered)
        if session.turn >= MAX_TURNS and not ctx.ended:
            ctx.events.append({"event": "progress_guard", "reason": "max_turns", "state": state.value})
            ctx.phrase("not_understood_callback")
            ctx.end(CallStatus.CALLBACK)
        elif not apply_stop_intents(ctx):
            answer_faq(ctx)
            apply_slots(ctx)
            enforce_safety(ctx)
            if not ctx.ended:
                _answer_current(ctx, state)
                enforce_safety(ctx)
        _count_progress(ctx, state, slots_before, offered_before)
        ctx.next = _guarded_next(ctx, planner)
        return gs

    return node


def _count_progress(ctx: TurnContext, state: State, slots_before: dict, offered_before: list) -> None:
    """A slot of the lead changed: every question starts counting again. Only the question
    asked changed (new times offered): that one does. A volunteered time or an FAQ is no progress
    for an unrelated question, or a caller could keep one question open for ever."""
    progress = ctx.session.progress
    if ctx.session.slots.model_dump(exclude={"provenance"}) != slots_before:
        progress.stalled.clear()
    elif ctx.changed and (ctx.consumed or progress.offered != offered_before):
        progress.stalled.pop(state.value, None)


def _essential(ctx: TurnContext, state: State) -> bool:
    """Essential questions end in a callback when they cannot be answered; the weight is one for
    a study with a table limit (an MRI is never booked with the weight unknown)."""
    if state in ESSENTIAL:
        return True
    study = ctx.profile.studies_by_id.get(ctx.session.slots.study_id or "")
    weight_unknown = ctx.session.slots.weight is None
    return state == State.ASK_AGE_WEIGHT and weight_unknown and study is not None and study.modality == "mri"


def _guarded_next(ctx: TurnContext, planner: Planner) -> State:
    """The planner's next state, unless that question was already asked too often without progress.

    This is what bounds every call whatever the caller says: an optional question is given up
    (skipped for the rest of the call), an essential one hands the call to a human callback.
    """
    progress = ctx.session.progress
    while True:
        state = planner.next_state(ctx.session)
        if state in SAY_STATES or state in (State.FAREWELL, State.END, State.GREETING):
            return state
        if progress.stalled.get(state.value, 0) < MAX_STALLED_ASKS:
            return state
        ctx.events.append({"event": "progress_guard", "reason": "stalled", "state": state.value})
        progress.stalled.pop(state.value, None)
        if _essential(ctx, state):
            ctx.phrase("not_understood_callback")
            ctx.end(CallStatus.CALLBACK)
        else:
            progress.skip(state)


def _answer_current(ctx: TurnContext, state: State) -> None:
    progress = ctx.session.progress
    handler = HANDLERS.get(state)
    if handler is None or handler(ctx):
        ctx.consumed = True
        progress.mark_done(state)
        progress.retries.pop(state.value, None)
        return
    if Intent.REPEAT in ctx.ext.intents and not ctx.changed:
        return  # "повторите": the question is asked again, not counted as misunderstood
    if ctx.ext.question and not ctx.answered_faq and not ctx.changed:
        ctx.phrase("unknown_question")  # asked something the profile cannot answer: say so, ask again
        ctx.answered_faq = True
    if ctx.changed or ctx.answered_faq:
        if ctx.answered_faq and not ctx.changed:
            ctx.phrase("return_to_script")
        return
    retries = progress.retries.get(state.value, 0) + 1
    progress.retries[state.value] = retries
    ctx.events.append({"event": "not_understood", "state": state.value, "retry": retries})
    if retries > MAX_REASKS:
        progress.retries.pop(state.value, None)
        if _essential(ctx, state):
            ctx.phrase("not_understood_callback")
            ctx.end(CallStatus.CALLBACK)
        else:
            progress.skip(state)  # the lead is useful without it; never asked again


def _enter(state: State, planner: Planner):
    def node(gs: GraphState) -> GraphState:
        ctx = gs["ctx"]
        session = ctx.session
        ctx.visited.append(state)
        if state == State.FAREWELL:
            ctx.say(ctx.renderer.farewell(session, ctx.today))
            session.done = True
            ctx.next = State.END
        elif state == State.END:
            session.state = State.END
        elif state in SAY_STATES:
            ctx.say(ctx.renderer.question(state, 0, session, ctx.today))
            session.progress.mark_done(state)
            if state == State.ANNOUNCE_PRICE:
                session.progress.price_announced_for = session.slots.study_id
            ctx.next = planner.next_state(session)
        else:
            _ask(ctx, state)
            session.state = state
            stalled = session.progress.stalled
            stalled[state.value] = stalled.get(state.value, 0) + 1
        return gs

    return node


def _ask(ctx: TurnContext, state: State) -> None:
    session = ctx.session
    if ctx.asked == state:
        return
    attempt = session.progress.retries.get(state.value, 0)
    slots = session.slots
    if state == State.OFFER_APPOINTMENT_TIMES:
        _offer_times(ctx, attempt)
    elif state == State.ASK_AGE_WEIGHT and slots.age is not None and slots.weight is None:
        ctx.phrase("ask_weight")
    elif state == State.ASK_AGE_WEIGHT and slots.weight is not None and slots.age is None:
        ctx.phrase("ask_age")
    elif state == State.CONFIRM_APPOINTMENT and attempt > 0 and not ctx.changed:
        ctx.phrase("what_to_fix")
    elif state == State.CONFIRM_APPOINTMENT and ctx.changed and session.state == state:
        ctx.phrase("correction_ack")
        ctx.say(ctx.renderer.question(state, 0, session, ctx.today))
    else:
        ctx.say(ctx.renderer.question(state, attempt, session, ctx.today))


def _offer_times(ctx: TurnContext, attempt: int) -> None:
    session, profile = ctx.session, ctx.profile
    prog = session.progress
    req = prog.date_request or DateRequest()
    day = req.day
    free = free_slots(profile, day, ctx.now, ctx.booked, req.part_of_day) if day else []
    horizon = ctx.today + timedelta(days=profile.schedule.horizon_days)
    if day and day > horizon:
        ctx.phrase("beyond_horizon")
    elif day and not free:
        ctx.phrase("no_free_times", date_phrase=russian.date_phrase(day, ctx.today))
    if not free:
        # the nearest day from the one asked for (in the part of the day asked for, if any); a day
        # past the booking horizon falls back to the nearest free day from today
        part = req.part_of_day
        found = None
        for after in dict.fromkeys((day or ctx.today, ctx.today)):
            found = nearest_free(profile, ctx.now, ctx.booked, after=after, part_of_day=part) or nearest_free(
                profile, ctx.now, ctx.booked, after=after
            )
            if found is not None:
                break
        if found is None:
            ctx.phrase("no_free_times_at_all")
            ctx.phrase("callback_offer")
            ctx.end(CallStatus.CALLBACK)
            return
        day, free = found
        prog.date_request = DateRequest(day=day, part_of_day=req.part_of_day if free else None)
    offered = spread(free, profile.schedule.offer_count, near=req.at)
    prog.offered = offered
    ctx.say(
        ctx.renderer.question(
            State.OFFER_APPOINTMENT_TIMES,
            attempt,
            session,
            ctx.today,
            date_phrase=russian.date_phrase(day, ctx.today),  # type: ignore[arg-type]
            free_times=russian.join_and([russian.clock(s) for s in offered]),
        )
    )


def _route(gs: GraphState) -> str:
    return gs["ctx"].next.value


def build_graph(planner: Planner):
    """Compile the script graph: ``understand`` then one node per state of the seed's list."""
    graph = StateGraph(GraphState)
    graph.add_node("understand", _understand(planner))
    graph.add_edge(START, "understand")
    names = {s.value: s.value for s in State}
    graph.add_conditional_edges("understand", _route, names)
    for state in State:
        graph.add_node(state.value, _enter(state, planner))
        if state in SAY_STATES or state == State.FAREWELL:
            graph.add_conditional_edges(state.value, _route, names)
        else:
            graph.add_edge(state.value, GRAPH_END)
    return graph.compile()
