"""Call lifecycle: hang-ups, deletes and idle expiry never lose a lead; discounts; clock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from salesagent.config import get_settings
from salesagent.services.factory import build_service


@pytest.fixture
def service(profile):
    svc = build_service(get_settings(), profile=profile)
    yield svc
    svc.store.close()


def _leads(service) -> dict[str, str]:
    outbox = service.leads.outbox
    return {entry.call_id: entry.lead.status.value for entry in outbox.list()}


def test_hangup_mid_call_keeps_lead(service) -> None:
    service.handle_sync("hang-1", "")
    service.handle_sync("hang-1", "я Ольга хочу на мрт колена")
    service.end_call_sync("hang-1")
    assert _leads(service)["hang-1"] == "abandoned"
    session = service.store.get("hang-1")
    assert session.done and session.slots.client_name == "Ольга"
    service.end_call_sync("hang-1")  # twice: still one lead
    assert list(_leads(service)).count("hang-1") == 1


async def test_delete_of_live_session_keeps_lead(service) -> None:
    await service.handle("del-1", "")
    await service.handle("del-1", "меня зовут Ольга")
    await service.delete("del-1")
    assert _leads(service)["del-1"] == "abandoned"
    assert service.store.get("del-1") is None


def test_idle_sessions_expire_into_abandoned_leads(service) -> None:
    service.store.ttl_s = 1
    service.handle_sync("idle-1", "")
    service.handle_sync("idle-1", "меня зовут Ольга")
    time.sleep(1.2)
    assert service.store.get("idle-1") is None  # expired for the API
    assert service.sweep_sync() == 1
    assert _leads(service)["idle-1"] == "abandoned"


def test_pensioner_discount_by_age(service, profile) -> None:
    service.handle_sync("pens-1", "")
    service.handle_sync("pens-1", "я Ольга хочу на мрт колена в пятницу в два часа дня")
    result = None
    answers = {
        "ASK_SYMPTOMS": "болит колено", "ASK_SYMPTOMS_DURATION": "месяц", "ASK_PAIN_CHARACTER": "ноющая",
        "ASK_VISITED_DOCTOR": "нет", "ASK_STUDY_DECISION": "да", "OFFER_VIDEO_CONCLUSION": "нет",
        "ANNOUNCE_MEDIA_PRICE": "нет", "CONFIRM_TIME": "да", "ASK_PHONE": "89161234567",
        "ASK_AGE_WEIGHT": "шестьдесят восемь лет вес семьдесят", "CHECK_CONTRAINDICATIONS": "нет",
        "CHECK_DISCOUNTS": "нет", "CONFIRM_APPOINTMENT": "да",
    }
    session = service.store.get("pens-1")
    for _ in range(30):
        if session.done:
            break
        result = service.handle_sync("pens-1", answers[session.state.value])
        session = service.store.get("pens-1")
    assert result is not None and result.slots["status"] == "booked"
    pensioner = next(d for d in profile.discounts if d.min_age)
    base = profile.study("mri_knee").price
    assert result.slots["discount"] == pensioner.id
    assert result.slots["price"] == round(base * (100 - pensioner.percent) / 100)


def test_chat_cli_scripted_from_stdin(tmp_path: Path) -> None:
    lines = "\n".join(
        [
            "я Ольга хочу на мрт колена в пятницу в два часа дня",
            "болит колено", "две недели", "ноющая", "нет", "да", "нет", "нет", "да",
            "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
            "сорок лет вес семьдесят", "нет", "нет", "да",
        ]
    )
    env = {
        "SALESAGENT_DATA_DIR": str(tmp_path / "d"),
        "SALESAGENT_NOW": "2026-11-25T11:00:00+03:00",
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "salesagent.cli.main", "chat", "--json"],
        input=lines, capture_output=True, text=True, env=env, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    turns = [json.loads(line) for line in proc.stdout.splitlines()]
    assert turns[0]["state"] == "GREETING"
    assert turns[-1]["done"] is True
    assert turns[-1]["slots"]["status"] == "booked"
    assert turns[-1]["slots"]["appointment_datetime"] == "2026-11-27T14:00:00+03:00"
    assert (tmp_path / "d" / "sessions.sqlite3").exists()


def test_bad_clock_is_one_line(tmp_path: Path) -> None:
    env = {"SALESAGENT_DATA_DIR": str(tmp_path / "d"), "SALESAGENT_NOW": "вчера", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "salesagent.cli.main", "chat"], input="", capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2 and "SALESAGENT_NOW" in proc.stderr
