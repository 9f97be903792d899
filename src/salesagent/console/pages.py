"""The console's pages and JSON API: calls, one call, leads (with retry), live, numbers.

Every route depends on :func:`page_user` (HTML: redirect to the login) or :func:`api_user` (JSON:
401). Reports are read from the call-records folder the index points at, never from a path the
browser gives, so a crafted id cannot read outside the records.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse

from salesagent.console import views
from salesagent.console.context import api_user, console_of, page_user, templates
from salesagent.console.numbers import numbers

pages_router = APIRouter(prefix="/console", include_in_schema=False)  # staff pages, not the public API
PageUser = Annotated[str, Depends(page_user)]
ApiUser = Annotated[str, Depends(api_user)]
Day = Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
Word = Annotated[str | None, Query(max_length=64)]
StateQ = Annotated[str | None, Query(pattern="^(pending|delivered|failed|dead)?$")]


def _render(request: Request, name: str, user: str, **context: Any) -> Response:
    return templates.TemplateResponse(request, name, {"user": user, "page": name.split(".")[0], **context})


async def _calls(request: Request, day: str | None, status: str | None, study: str | None,
                 page: int) -> dict[str, Any]:
    console = console_of(request)
    await asyncio.to_thread(console.index.sync)
    size = console.settings.page_size
    rows, total = await asyncio.to_thread(console.index.page, day=day, status=status, study=study,
                                          offset=(page - 1) * size, limit=size)
    return {"calls": [views.call_row(r) for r in rows], "total": total, "page": page,
            "pages": max(1, -(-total // size)), "filters": {"day": day, "status": status, "study": study}}


def _report(request: Request, call_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    row = console_of(request).index.get(call_id)
    if row is None:
        console_of(request).index.sync()
        row = console_of(request).index.get(call_id)
    if row is None:
        raise HTTPException(404, f"no call {call_id!r}")
    try:
        return row, json.loads((Path(row["path"]) / "report.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise HTTPException(404, f"the report of {call_id!r} is gone (retention?)") from exc


@pages_router.get("")
@pages_router.get("/")
async def home(user: PageUser) -> Response:
    return RedirectResponse("/console/calls", status_code=303)


@pages_router.get("/calls", response_class=HTMLResponse)
async def calls_page(request: Request, user: PageUser, day: Day = None, status: Word = None, study: Word = None,
                     page: Annotated[int, Query(ge=1, le=100000)] = 1) -> Response:
    data = await _calls(request, day, status, study, page)
    return _render(request, "calls.html", user, **data, choices=console_of(request).index.choices(),
                   status_ru=views.STATUS_RU)


@pages_router.get("/api/calls")
async def calls_api(request: Request, user: ApiUser, day: Day = None, status: Word = None, study: Word = None,
                    page: Annotated[int, Query(ge=1, le=100000)] = 1) -> dict[str, Any]:
    return await _calls(request, day, status, study, page)


@pages_router.get("/calls/{call_id}", response_class=HTMLResponse)
async def call_page(request: Request, call_id: str, user: PageUser) -> Response:
    row, report = await asyncio.to_thread(_report, request, call_id)
    lead = await _lead(request, report.get("call_id") or call_id)
    return _render(request, "call.html", user, row=views.call_row(row), report=report,
                   transcript=views.transcript_rows(report), slots=views.slot_rows(report),
                   latency=views.latency_series(report), lead=lead,
                   has_recording=(Path(row["path"]) / "recording.wav").is_file())


@pages_router.get("/api/calls/{call_id}")
async def call_api(request: Request, call_id: str, user: ApiUser) -> dict[str, Any]:
    return (await asyncio.to_thread(_report, request, call_id))[1]


@pages_router.get("/api/calls/{call_id}/recording")
async def recording(request: Request, call_id: str, user: ApiUser) -> Response:
    row, _ = await asyncio.to_thread(_report, request, call_id)
    path = Path(row["path"]) / "recording.wav"
    if not path.is_file():
        raise HTTPException(404, "this call has no recording")
    return FileResponse(path, media_type="audio/wav")


async def _lead(request: Request, call_id: str) -> dict[str, Any] | None:
    outbox = console_of(request).outbox
    entry = await asyncio.to_thread(outbox.get, call_id) if outbox is not None else None
    return _lead_dict(entry) if entry is not None else None


def _lead_dict(entry: Any) -> dict[str, Any]:
    return {"call_id": entry.call_id, "state": entry.state.value,
            "state_ru": views.LEAD_STATE_RU.get(entry.state.value, entry.state.value),
            "attempts": entry.attempts, "last_error": entry.last_error,
            "name": entry.lead.slots.client_name, "study": entry.lead.slots.study_type,
            "status_ru": views.STATUS_RU.get(entry.lead.status.value, entry.lead.status.value)}


@pages_router.get("/leads", response_class=HTMLResponse)
async def leads_page(request: Request, user: PageUser, state: StateQ = None) -> Response:
    return _render(request, "leads.html", user, **await _leads(request, state), state=state)


@pages_router.get("/api/leads")
async def leads_api(request: Request, user: ApiUser, state: StateQ = None) -> dict[str, Any]:
    return await _leads(request, state)


async def _leads(request: Request, state: str | None) -> dict[str, Any]:
    from salesagent.notify import LeadState

    outbox = console_of(request).outbox
    if outbox is None:
        return {"leads": [], "counts": {}}
    entries = await asyncio.to_thread(outbox.list, LeadState(state) if state else None, 500)
    counts = await asyncio.to_thread(outbox.counts)
    return {"leads": [_lead_dict(e) for e in entries], "counts": {k.value: v for k, v in counts.items()}}


@pages_router.post("/api/leads/{call_id}/retry")
async def retry_lead(request: Request, call_id: str, user: ApiUser) -> dict[str, Any]:
    console = console_of(request)
    if console.outbox is None:
        raise HTTPException(409, "no outbox configured")
    entry = await asyncio.to_thread(console.outbox.get, call_id)
    if entry is None:
        raise HTTPException(404, f"no lead {call_id!r}")
    if entry.state.value != "dead":
        raise HTTPException(409, f"lead {call_id!r} is {entry.state.value}, only dead-lettered leads are retried")
    retried = await asyncio.to_thread(console.outbox.retry_dead, [call_id])
    console.wake_worker()
    return {"call_id": call_id, "retried": retried}


@pages_router.get("/live", response_class=HTMLResponse)
async def live_page(request: Request, user: PageUser) -> Response:
    return _render(request, "live.html", user, calls=console_of(request).hub.snapshot())


@pages_router.get("/api/live")
async def live_stream(request: Request, user: ApiUser, call: Word = None) -> Response:
    return StreamingResponse(console_of(request).hub.stream(call), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@pages_router.get("/numbers", response_class=HTMLResponse)
async def numbers_page(request: Request, user: PageUser) -> Response:
    return _render(request, "numbers.html", user, numbers=await _numbers(request))


@pages_router.get("/api/numbers")
async def numbers_api(request: Request, user: ApiUser) -> dict[str, Any]:
    return await _numbers(request)


async def _numbers(request: Request) -> dict[str, Any]:
    index = console_of(request).index
    await asyncio.to_thread(index.sync)
    return await asyncio.to_thread(numbers, index)
