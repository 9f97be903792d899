"""Shaping index rows and reports for the pages: masked numbers, Russian labels, the call's story."""

from __future__ import annotations

import re
from typing import Any

STATUS_RU = {"booked": "Записан", "callback": "Перезвонить", "contraindicated": "Противопоказания",
             "declined": "Отказ", "abandoned": "Брошен", "transferred": "Передан оператору"}
LEAD_STATE_RU = {"pending": "В очереди", "delivered": "Доставлен", "failed": "Ошибка, повтор",
                 "dead": "Не доставлен"}
CHANNEL_RU = {"browser": "Браузер", "twilio": "Twilio", "audiofork": "FreeSWITCH", "audiosocket": "Asterisk",
              "text": "Чат"}


def mask_phone(number: str | None) -> str:
    """Staff see enough to recognise a caller (the last 4 digits), the list never shows whole numbers."""
    if not number:
        return "—"
    digits = re.sub(r"\D", "", number)
    if not digits:  # the browser phone: the staff login that called, not a caller's number
        return number
    if len(digits) < 5:
        return "***"
    return f"+{digits[0]} *** ***-{digits[-4:-2]}-{digits[-2:]}"


def call_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "caller_masked": mask_phone(row.get("caller")),
            "status_ru": STATUS_RU.get(row.get("status") or "", row.get("status") or "—"),
            "channel_ru": CHANNEL_RU.get(row.get("channel") or "", row.get("channel") or "—"),
            "started": (row.get("started_at") or "")[:19].replace("T", " "),
            "booked_at": (row.get("booked") or "")[:16].replace("T", " ") or "—"}


def slot_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each filled slot with the caller's utterance that filled it (the provenance)."""
    slots = dict(report.get("slots") or {})
    provenance = slots.pop("provenance", {}) or {}
    rows = []
    for name, value in slots.items():
        if value in (None, [], ""):
            continue
        why = provenance.get(name) or {}
        rows.append({"name": name, "value": value, "utterance": why.get("utterance"), "turn": why.get("turn"),
                     "source": why.get("source")})
    return rows


def transcript_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Lines with their flags: a barge-in cut agent line shows what was heard and what was not."""
    rows = []
    for entry in report.get("transcript") or []:
        text = entry.get("text") or ""
        heard, unheard = text, ""
        if entry.get("interrupted"):
            heard = (entry.get("heard_text") or "").strip(" …")
            unheard = text[len(heard):].strip() if text.startswith(heard) else text
            heard = heard if text.startswith(heard) else ""
        rows.append({**entry, "heard": heard, "unheard": unheard,
                     "at": f"{int(entry.get('start') or 0) // 60:02d}:{(entry.get('start') or 0) % 60:04.1f}"})
    return rows


def latency_series(report: dict[str, Any]) -> dict[str, Any]:
    """Per-turn stages for the stacked chart: endpointing, ASR, dialog, TTS (first chunk + playout)."""
    turns = (report.get("latency") or {}).get("turns") or []
    stages = {"endpointing": [], "asr": [], "dialog": [], "tts": []}
    for turn in turns:
        ms = turn.get("stages_ms") or {}
        stages["endpointing"].append(ms.get("endpointing"))
        stages["asr"].append(ms.get("asr"))
        stages["dialog"].append(ms.get("dialog"))
        tts = [ms.get(k) for k in ("tts_first_chunk", "playout_start") if ms.get(k) is not None]
        stages["tts"].append(round(sum(tts), 1) if tts else None)
    return {"labels": [f"Ход {t.get('turn')}" for t in turns], "stages": stages,
            "v2v": [t.get("voice_to_voice_ms") for t in turns]}
