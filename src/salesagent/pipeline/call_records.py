"""The end of a call: the lead is kept (``DialogService.end_call``), the report and the stereo
recording are saved, and the live view is told. Each step is isolated: a failing store never
loses the lead, a failing ``end_call`` never loses the report."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from salesagent.dialog.slots import CallStatus
from salesagent.pipeline import metrics

if TYPE_CHECKING:
    from salesagent.pipeline.voice_agent import VoiceCall

log = logging.getLogger(__name__)


async def close_call(vc: VoiceCall) -> None:
    stopped = vc.call.stopped
    vc.report.end_reason = stopped.reason if stopped else None
    vc.report.duration_s = round(vc.loop.time() - vc.t0, 3)
    session = None
    try:
        session = await vc.s.dialog.end_call(vc.sid, vc.status or CallStatus.ABANDONED)
    except Exception as exc:
        vc.events.emit("error", component="dialog", message=f"end_call: {exc!r}")
        log.exception("end_call failed", extra={"context": vc.ctx})
    status = session.slots.status.value if session and session.slots.status else "unknown"
    metrics.CALLS.labels(status=status).inc()
    summary = vc.latency.latency.summary()
    report = vc.report.to_dict(session, {"turns": [t.as_dict() for t in vc.latency.latency.turns], **summary})
    paths = await _save_records(vc, report)
    log.info("call summary", extra={"context": {**vc.ctx, "status": status, "reason": vc.report.end_reason,
                                                "duration_s": vc.report.duration_s,
                                                "barge_ins": vc.report.barge_ins, **summary}})
    vc.events.emit("ended", status=status, reason=vc.report.end_reason, report=report, paths=paths)


async def _save_records(vc: VoiceCall, report: dict[str, Any]) -> dict[str, str]:
    paths: dict[str, str] = {}
    records = vc.s.records
    if records is None:
        return paths
    try:
        if vc.cfg.save_reports:
            paths["report"] = str(await asyncio.to_thread(records.save_report, vc.sid, report))
        if vc.recorder is not None:
            wav = await asyncio.to_thread(vc.recorder.wav_bytes)
            saved = await asyncio.to_thread(records.save_recording, vc.sid, wav)
            if saved is not None:
                paths["recording"] = str(saved)
    except Exception as exc:
        vc.events.emit("error", component="record", message=f"record: {exc!r}")
        log.exception("saving call records failed", extra={"context": vc.ctx})
    return paths
