"""The local xlsx sheet (embedded default), call records and the PII masking of lead logs."""

from __future__ import annotations

import io
import json
import logging
import wave
from datetime import date

import openpyxl
import pytest
from notify_helpers import MSK, drain_all, make_lead

from salesagent.logs import JsonFormatter
from salesagent.notify import (
    COLUMNS,
    SEED_COLUMNS,
    CallRecordError,
    CallRecordStore,
    DeliveryWorker,
    NotifySettings,
    SinkError,
    build_sink,
    open_outbox,
)
from salesagent.notify.sinks.xlsx import XlsxSink


async def test_default_sink_is_leads_xlsx_in_data_dir_with_worksheet_list4(tmp_path):
    settings = NotifySettings()
    sink = build_sink(settings)
    assert isinstance(sink, XlsxSink)
    assert sink.path == tmp_path / "data" / "leads.xlsx"  # SALESAGENT_DATA_DIR from the root conftest
    outbox = open_outbox(settings, tz=MSK)
    leads = [make_lead(1), make_lead(2, client_name='=HYPERLINK("http://x")')]
    for lead in leads:
        outbox.enqueue(lead)
    await drain_all(DeliveryWorker.from_settings(outbox, sink, settings))
    wb = openpyxl.load_workbook(sink.path)
    assert wb.sheetnames == ["Лист4"]
    rows = [[c.value for c in r] for r in wb["Лист4"].iter_rows()]
    assert rows == [list(COLUMNS), *(lead.to_row(MSK) for lead in leads)]
    cell = wb["Лист4"]["B3"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")  # text, not a live formula


async def test_existing_workbook_keeps_its_rows_and_other_sheets(tmp_path):
    path = tmp_path / "clinic.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Лист1"
    wb["Лист1"]["A1"] = "чужие данные"
    ws = wb.create_sheet("Лист4")
    ws.append(list(SEED_COLUMNS))
    ws.append(["01.01.2026 10:00:00", "Старый", "+79160000000", "", "", "", "", "", "", "отказ"])
    wb.save(path)
    sink = XlsxSink(path)
    await sink.append([make_lead(5).to_row(MSK)])
    assert await sink.find_call_ids({"call-00005", "call-00006"}) == {"call-00005"}
    rows = sink.read_rows()
    assert rows[0] == list(COLUMNS)
    assert rows[1][:10] == ["01.01.2026 10:00:00", "Старый", "+79160000000", "", "", "", "", "", "", "отказ"]
    assert rows[2] == make_lead(5).to_row(MSK)
    assert openpyxl.load_workbook(path)["Лист1"]["A1"].value == "чужие данные"


async def test_foreign_header_and_corrupt_file_are_refused(tmp_path):
    path = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Лист4"
    wb.active.append(["Дата", "Сумма"])
    wb.save(path)
    with pytest.raises(SinkError, match="header row does not match") as info:
        await XlsxSink(path).append([make_lead(1).to_row(MSK)])
    assert info.value.retryable is False
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(SinkError, match="cannot read"):
        await XlsxSink(broken).append([make_lead(1).to_row(MSK)])


def _wav(seconds: float = 0.1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * int(16000 * seconds))
    return buf.getvalue()


def test_call_records_saved_beside_the_lead_and_expired_by_retention(tmp_path):
    store = CallRecordStore.from_settings(NotifySettings(retention_days=30))
    assert store.root == tmp_path / "data" / "calls"
    report = {"transcript": [{"at": "2026-11-25T11:00:01+03:00", "role": "caller", "text": "Здравствуйте"}],
              "path": ["greeting", "ask_name"], "slots": {"client_name": {"value": "Анна", "turn": 1}},
              "latency_ms": [412.5]}  # fmt: skip
    report_path = store.save_report("call-1", report)
    wav_path = store.save_recording("call-1", _wav())
    assert report_path.parent == wav_path.parent
    assert json.loads(report_path.read_text("utf-8")) == report
    assert store.load_report("call-1") == report
    with wave.open(str(wav_path)) as w:
        assert w.getframerate() == 16000
    with pytest.raises(CallRecordError, match="not a WAV"):
        store.save_recording("call-1", b"ID3\x00 mp3 bytes" * 10)
    # ids the bridges hand over are kept, in a safe folder of their own: a SIP Call-ID, a path
    sip = store.save_report("1-18806@127.0.0.1", {"n": 1})
    escape = store.save_report("../escape", {"n": 2})
    for path in (sip, escape):
        assert path.resolve().is_relative_to(store.root.resolve()) and path.parent.parent.parent == store.root
    assert sip.parent != escape.parent and store.load_report("1-18806@127.0.0.1") == {"n": 1}
    assert store.load_report("../escape") == {"n": 2}
    with pytest.raises(CallRecordError, match="empty call id"):
        store.save_report("", {})
    # the folder's day is today (UTC); 30 days later it is still kept, 31 days later it is gone
    day = date.fromisoformat(report_path.parent.parent.name)
    assert store.cleanup(today=date.fromordinal(day.toordinal() + 30)) == 0
    assert store.cleanup(today=date.fromordinal(day.toordinal() + 31)) == 3
    assert store.find("call-1") is None


async def test_delivery_logs_mask_the_phone(tmp_path, caplog):
    settings = NotifySettings()
    outbox = open_outbox(settings, tz=MSK)
    outbox.enqueue(make_lead(42, client_name="Иван Петров", phone="+79161234567"))
    with caplog.at_level(logging.INFO, logger="salesagent.notify"):
        await drain_all(DeliveryWorker.from_settings(outbox, build_sink(settings), settings))
    record = next(r for r in caplog.records if r.getMessage() == "lead delivered")
    masked = JsonFormatter("salesagent", mask_pii=True).format(record)
    assert "+7916***4567" in masked and "+79161234567" not in masked
    unmasked = JsonFormatter("salesagent", mask_pii=False).format(record)
    assert "+79161234567" in unmasked
