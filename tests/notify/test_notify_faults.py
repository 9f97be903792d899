"""Fault tests: whatever fails, every lead ends up in the sheet exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from notify_helpers import MSK, call_ids_in, drain_all, make_lead

from salesagent.dialog.slots import CallStatus
from salesagent.notify import COLUMNS, DeliveryWorker, LeadState, build_sink, open_outbox


def _setup(settings, n: int):
    outbox = open_outbox(settings, tz=MSK)
    leads = [make_lead(i) for i in range(n)]
    for lead in leads:
        assert outbox.enqueue(lead)
    return outbox, DeliveryWorker.from_settings(outbox, build_sink(settings), settings), leads


def _assert_exactly_once(emulator, leads) -> None:
    rows = emulator.rows()
    assert rows[0] == list(COLUMNS)
    assert Counter(call_ids_in(rows)) == Counter(lead.call_id for lead in leads)
    by_id = {r[10]: r for r in rows[1:]}
    for lead in leads:
        assert by_id[lead.call_id] == lead.to_row(MSK)


async def test_google_answering_500_for_a_while(emulator, google_settings):
    emulator.add_fault("append", 4, 500)
    outbox, worker, leads = _setup(google_settings, 3)
    await drain_all(worker)
    _assert_exactly_once(emulator, leads)
    assert [r.status for r in emulator.requests_of("append")] == [500, 500, 500, 500, 200]
    assert {e.attempts for e in outbox.list()} == {5}
    assert all(e.state is LeadState.DELIVERED for e in outbox.list())


async def test_429_with_retry_after_is_honoured(emulator, google_settings):
    emulator.add_fault("append", 1, 429, headers={"Retry-After": "1"})
    outbox, worker, leads = _setup(google_settings, 2)
    failed_at = time.time()
    result = await worker.drain_once()
    assert result.failed == 2
    # backoff alone would be <= backoff_max_s (0.2 s); the server asked for 1 s and gets at least that
    assert min(e.next_attempt_at for e in outbox.list()) >= failed_at + 1.0
    assert (await worker.drain_once()).claimed == 0  # not due yet
    await drain_all(worker)
    first, second = emulator.requests_of("append")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    _assert_exactly_once(emulator, leads)


async def test_request_that_times_out_after_google_stored_the_row(emulator, google_settings):
    # the server stores the rows, then answers only after the client's 1 s timeout
    emulator.add_fault("append", 1, 200, store_then_stall_s=2.5)
    outbox, worker, leads = _setup(google_settings, 3)
    result = await worker.drain_once()
    assert result.failed == 3 and "timed out" in result.errors[0]
    assert len(emulator.rows()) == 4  # Google did write them
    await drain_all(worker)
    _assert_exactly_once(emulator, leads)
    assert len(emulator.requests_of("append")) == 1  # looked up by call id, never re-sent
    assert [e.state for e in outbox.list()] == [LeadState.DELIVERED] * 3


async def test_dead_letters_are_visible_and_redrive_without_duplicates(emulator, google_settings):
    settings = google_settings.model_copy(update={"max_attempts": 3})
    emulator.add_fault("append", 1, 200, store_then_stall_s=2.5)  # lands but looks failed
    outbox, worker, leads = _setup(settings, 2)
    assert (await worker.drain_once()).failed == 2
    emulator.add_fault("values_get", 10, 503)  # the sheet lookup before re-sending fails too
    await drain_all(worker)  # ends when nothing is pending: both dead after 3 attempts
    assert [e.state for e in outbox.list()] == [LeadState.DEAD, LeadState.DEAD]
    assert "503" in outbox.list()[0].last_error
    emulator.faults.clear()
    assert outbox.retry_dead() == 2
    await drain_all(worker)
    _assert_exactly_once(emulator, leads)  # the re-drive found the rows instead of appending again
    assert [e.state for e in outbox.list()] == [LeadState.DELIVERED] * 2


async def test_200_calls_ending_at_once(emulator, google_settings):
    outbox = open_outbox(google_settings, tz=MSK)
    worker = DeliveryWorker.from_settings(outbox, build_sink(google_settings), google_settings)
    emulator.add_fault("append", 1, 500)
    task = asyncio.create_task(worker.run_forever())
    statuses = list(CallStatus)
    leads = [make_lead(i, status=statuses[i % len(statuses)]) for i in range(200)]
    barrier = threading.Barrier(20)

    def session_closer(chunk):
        barrier.wait()
        for lead in chunk:
            outbox.enqueue(lead)
            outbox.enqueue(lead)  # a retried close must not make a second lead
            worker.wake()

    threads = [threading.Thread(target=session_closer, args=(leads[i::20],)) for i in range(20)]
    for t in threads:
        t.start()
    await asyncio.to_thread(lambda: [t.join() for t in threads])
    deadline = time.time() + 60
    while outbox.counts()[LeadState.DELIVERED] < 200 and time.time() < deadline:
        await asyncio.sleep(0.05)
    worker.stop()
    await asyncio.wait_for(task, 10)
    _assert_exactly_once(emulator, leads)
    # each request carries its leads oldest first (a failed batch is retried later, not blocking others)
    seq = {e.call_id: e.seq for e in outbox.list()}
    for request in emulator.requests_of("append"):
        sent = [seq[row[10]] for row in request.body["values"]]
        assert sent == sorted(sent)
    assert len(emulator.requests_of("append")) <= 1 + 200 // 2  # batched, not one request per lead


def _worker_process(settings, tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        {
            "GOOGLE_CREDENTIALS_PATH": str(settings.google_credentials_path),
            "GOOGLE_SHEET_ID": settings.google_sheet_id,
            "SALESAGENT_NOTIFY_GOOGLE_API_BASE": settings.google_api_base,
            "SALESAGENT_NOTIFY_GOOGLE_MIN_INTERVAL_S": "0",
            "SALESAGENT_NOTIFY_OUTBOX_PATH": str(settings.outbox_path),
            "SALESAGENT_NOTIFY_REQUEST_TIMEOUT_S": "1",
            "SALESAGENT_NOTIFY_LEASE_S": "2",
            "SALESAGENT_NOTIFY_POLL_INTERVAL_S": "0.1",
            "SALESAGENT_NOTIFY_BACKOFF_INITIAL_S": "0.05",
            "SALESAGENT_NOTIFY_BACKOFF_MAX_S": "0.2",
        }
    )
    log = (tmp_path / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "salesagent.cli.leads", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


@pytest.mark.slow
def test_worker_killed_during_delivery_then_restarted(emulator, google_settings, tmp_path):
    outbox = open_outbox(google_settings, tz=MSK)
    leads = [make_lead(i) for i in range(5)]
    for lead in leads:
        outbox.enqueue(lead)
    emulator.release_appends.clear()  # the append is stored, then the reply is held back
    proc = _worker_process(google_settings, tmp_path)
    try:
        assert emulator.append_started.wait(60), (tmp_path / "worker.log").read_text()
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    emulator.release_appends.set()
    assert outbox.counts()[LeadState.PENDING] == 5  # the outbox does not know the rows landed
    more = [make_lead(i) for i in range(5, 8)]  # calls that ended while no worker ran
    for lead in more:
        outbox.enqueue(lead)

    proc = _worker_process(google_settings, tmp_path)
    try:
        deadline = time.time() + 60
        while outbox.counts()[LeadState.DELIVERED] < 8 and time.time() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)  # clean stop
        assert proc.wait(15) == 0, (tmp_path / "worker.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    _assert_exactly_once(emulator, leads + more)
    appended = [row[10] for r in emulator.requests_of("append") if r.status == 200 for row in r.body["values"]]
    assert sorted(appended) == sorted(lead.call_id for lead in leads + more)  # nothing sent twice
    assert all(e.state is LeadState.DELIVERED for e in outbox.list())
