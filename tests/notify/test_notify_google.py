"""The Google path at the wire: a local token endpoint and Sheets v4 server, real gspread requests."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from notify_helpers import MSK, drain_all, make_lead

from salesagent.notify import COLUMNS, SEED_COLUMNS, DeliveryWorker, LeadState, build_sink, open_outbox
from salesagent.notify.sinks.google import GoogleSheetsSink


def _worker(settings, outbox, sink):
    return DeliveryWorker.from_settings(outbox, sink, settings)


async def test_rows_sent_exactly_in_order_with_header_created_on_empty_sheet(emulator, google_settings):
    sink = build_sink(google_settings)
    assert isinstance(sink, GoogleSheetsSink)
    outbox = open_outbox(google_settings, tz=MSK)
    leads = [make_lead(n) for n in (3, 1, 2)]
    for lead in leads:
        outbox.enqueue(lead)
    await drain_all(_worker(google_settings, outbox, sink))

    expected = [lead.to_row(MSK) for lead in leads]
    assert emulator.rows() == [list(COLUMNS), *expected]
    appends = emulator.requests_of("append")
    assert len(appends) == 1
    assert unquote(appends[0].path).endswith("/values/'Лист4'!A1:append")
    assert appends[0].query == {"valueInputOption": ["RAW"], "insertDataOption": ["INSERT_ROWS"]}
    assert appends[0].body["values"] == expected
    header = emulator.requests_of("values_update")[0]
    assert header.body["values"] == [list(COLUMNS)] and header.query["valueInputOption"] == ["RAW"]
    # the token came from the service-account JWT flow, verified by the emulator with the public key
    token_requests = emulator.requests_of("token")
    assert [r.status for r in token_requests] == [200]
    assert token_requests[0].body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert emulator.rows("Лист1") == []  # other worksheets untouched


async def test_existing_rows_are_kept_and_header_is_not_rewritten(emulator, google_settings):
    old = [["01.01.2026 10:00:00", "Старый клиент", "+79160000000", "", "", "", "", "", "", "отказ", "old-1"]]
    emulator.sheets["Лист4"] = [list(COLUMNS), *old]
    outbox = open_outbox(google_settings, tz=MSK)
    outbox.enqueue(make_lead(7))
    await drain_all(_worker(google_settings, outbox, build_sink(google_settings)))
    assert emulator.rows() == [list(COLUMNS), *old, make_lead(7).to_row(MSK)]
    assert emulator.requests_of("values_update") == []


async def test_a_seed_sheet_without_call_id_column_gets_only_that_cell(emulator, google_settings):
    emulator.sheets["Лист4"] = [list(SEED_COLUMNS)]
    outbox = open_outbox(google_settings, tz=MSK)
    outbox.enqueue(make_lead(1))
    await drain_all(_worker(google_settings, outbox, build_sink(google_settings)))
    update = emulator.requests_of("values_update")[0]
    assert unquote(update.path).endswith("'Лист4'!K1")
    assert update.body["values"] == [["ID звонка"]]
    assert emulator.rows()[0] == list(COLUMNS)


async def test_someone_elses_header_is_refused_and_leads_go_to_dead_letters(emulator, google_settings):
    emulator.sheets["Лист4"] = [["Дата", "Пациент", "Сумма"]]
    outbox = open_outbox(google_settings, tz=MSK)
    outbox.enqueue(make_lead(1))
    result = await _worker(google_settings, outbox, build_sink(google_settings)).drain_once()
    assert result.dead == 1
    entry = outbox.get("call-00001")
    assert entry.state is LeadState.DEAD and "header row does not match" in entry.last_error
    assert emulator.rows() == [["Дата", "Пациент", "Сумма"]]


async def test_missing_worksheet_and_foreign_key_are_clear_errors(emulator, google_settings, tmp_path):
    settings = google_settings.model_copy(update={"worksheet": "Лист9"})
    outbox = open_outbox(settings, tz=MSK)
    outbox.enqueue(make_lead(1))
    await _worker(settings, outbox, build_sink(settings)).drain_once()
    assert "Лист9" in outbox.get("call-00001").last_error
    assert outbox.get("call-00001").state is LeadState.DEAD

    # a key the emulator does not trust: the token endpoint refuses the JWT, lead stays pending
    from support.google_emulator import make_service_account

    rogue = tmp_path / "rogue.json"
    make_service_account(rogue, emulator.token_uri)
    settings2 = google_settings.model_copy(update={"google_credentials_path": rogue})
    outbox2 = open_outbox(settings2.model_copy(update={"outbox_path": tmp_path / "o2.sqlite3"}), tz=MSK)
    outbox2.enqueue(make_lead(2))
    await _worker(settings2, outbox2, build_sink(settings2)).drain_once()
    entry = outbox2.get("call-00002")
    assert entry.state is LeadState.PENDING and "bad signature" in entry.last_error


def test_bad_credentials_file_is_one_clear_error(tmp_path, emulator):
    from salesagent.notify import NotifySettings, SinkError

    path = tmp_path / "key.json"
    path.write_text('{"type": "authorized_user"}')
    settings = NotifySettings(google_credentials_path=path, google_sheet_id="x")
    with pytest.raises(SinkError, match="not a service-account key"):
        build_sink(settings)
    with pytest.raises(SinkError, match="cannot read"):
        build_sink(NotifySettings(google_credentials_path=tmp_path / "nope.json", google_sheet_id="x"))
