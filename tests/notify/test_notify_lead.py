from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notify_helpers import MSK
from pydantic import ValidationError

from salesagent.dialog.slots import CallStatus, DialogSlots
from salesagent.notify import COLUMNS, Lead


def test_row_has_seed_columns_in_order_then_call_id():
    lead = Lead(
        call_id="abc-1",
        ended_at=datetime(2026, 11, 25, 8, 5, 9, tzinfo=UTC),  # 11:05:09 in Moscow
        slots=DialogSlots(
            client_name="Мария Петрова",
            phone="+79031234567",
            age=47,
            weight=82,
            symptoms="боль в пояснице",
            symptoms_duration="две недели",
            pain_character="ноющая",
            study_type="МРТ поясничного отдела позвоночника",
            price=6300,
            appointment_datetime=datetime(2026, 11, 27, 10, 30, tzinfo=MSK),
        ),
        status=CallStatus.BOOKED,
    )
    assert lead.to_row(MSK) == [
        "25.11.2026 11:05:09",
        "Мария Петрова",
        "+79031234567",
        "47",
        "82",
        "боль в пояснице; две недели; ноющая",
        "МРТ поясничного отдела позвоночника",
        "27.11.2026 10:30",
        "6300",
        "записан",
        "abc-1",
    ]
    assert COLUMNS[:10] == (
        "Timestamp", "Имя клиента", "Телефон", "Возраст", "Вес", "Симптомы",
        "Тип исследования", "Дата/время записи", "Стоимость", "Статус",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (CallStatus.BOOKED, "записан"),
        (CallStatus.DECLINED, "отказ"),
        (CallStatus.CALLBACK, "перезвонить"),
        (CallStatus.CONTRAINDICATED, "противопоказания"),
        (CallStatus.TRANSFERRED, "переведён на администратора"),
        (CallStatus.ABANDONED, "звонок прерван"),
    ],
)
def test_every_call_status_has_russian_text(status, text):
    lead = Lead(call_id="x1", ended_at=datetime(2026, 1, 1, tzinfo=UTC), slots=DialogSlots(), status=status)
    row = lead.to_row("Europe/Moscow")
    assert row[9] == text
    assert row[1:9] == [""] * 8  # a call hung up before anything was learned still makes a row


def test_appointment_is_shown_in_clinic_time_zone():
    slots = DialogSlots(appointment_datetime=datetime(2026, 11, 27, 7, 30, tzinfo=UTC), price=4999)
    lead = Lead(call_id="x2", ended_at=datetime(2026, 11, 25, 23, 59, tzinfo=UTC), slots=slots, status="booked")
    row = lead.to_row(MSK)
    assert row[0] == "26.11.2026 02:59:00"
    assert row[7] == "27.11.2026 10:30"
    assert row[8] == "4999"


def test_naive_end_time_and_bad_call_id_are_rejected():
    with pytest.raises(ValidationError, match="timezone-aware"):
        Lead(call_id="x3", ended_at=datetime(2026, 11, 25, 11, 0), slots=DialogSlots(), status="booked")
    with pytest.raises(ValidationError, match="call_id"):
        Lead(call_id="", ended_at=datetime(2026, 11, 25, tzinfo=UTC), slots=DialogSlots(), status="booked")
    for odd in ("two words", "tab\tid", "x" * 257):  # issue 12: any id becomes a lead, the original kept
        lead = Lead(call_id=odd, ended_at=datetime(2026, 11, 25, tzinfo=UTC), slots=DialogSlots(), status="booked")
        assert lead.original_call_id == odd and lead.call_id != odd and len(lead.call_id) <= 256


def test_a_sip_call_id_is_a_valid_lead_id():
    """Bridges hand over ids we do not choose: the lead of a SIP call must never be refused."""
    lead = Lead(call_id="1-18806@10.0.0.5", ended_at=datetime(2026, 11, 25, tzinfo=UTC), slots=DialogSlots(),
                status="abandoned")
    assert lead.to_row("Europe/Moscow")[-1] == "1-18806@10.0.0.5"
