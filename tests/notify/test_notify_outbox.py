"""The outbox contract, run against SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from notify_helpers import MSK, make_lead

from salesagent.notify import LeadState, NotifySettings, open_outbox

PG_DSN = os.environ.get("SALESAGENT_TEST_POSTGRES_DSN", "postgresql://127.0.0.1:5432/test")


def _postgres_or_skip() -> None:
    import psycopg

    try:
        psycopg.connect(PG_DSN, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        why = f"PostgreSQL not reachable at {PG_DSN}: {str(exc).splitlines()[0]}"
        if os.environ.get("CI"):  # .ci/run starts PostgreSQL (scripts/ensure-postgres.sh): never skip there
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_path) -> Iterator[NotifySettings]:
    if request.param == "sqlite":
        yield NotifySettings(outbox_path=tmp_path / "outbox.sqlite3")
        return
    _postgres_or_skip()
    table = f"leads_test_{uuid.uuid4().hex[:10]}"
    yield NotifySettings(outbox_backend="postgres", postgres_dsn=PG_DSN, postgres_table=table)
    import psycopg

    with psycopg.connect(PG_DSN) as db:
        db.execute(f"DROP TABLE IF EXISTS {table}")


def test_enqueue_is_idempotent_and_survives_reopening(settings):
    outbox = open_outbox(settings, tz=MSK)
    assert outbox.enqueue(make_lead(1)) is True
    assert outbox.enqueue(make_lead(1)) is False
    assert outbox.enqueue(make_lead(2)) is True
    outbox.close()
    reopened = open_outbox(settings, tz=MSK)
    entries = reopened.list()
    assert [e.call_id for e in entries] == ["call-00001", "call-00002"]
    assert entries[0].state is LeadState.PENDING and entries[0].attempts == 0
    assert entries[0].row == make_lead(1).to_row(MSK)
    assert entries[0].lead == make_lead(1)
    reopened.close()


def test_claim_leases_oldest_first_and_counts_attempts(settings):
    outbox = open_outbox(settings, tz=MSK)
    for n in range(5):
        outbox.enqueue(make_lead(n))
    now = time.time()
    first = outbox.claim(3, now, lease_s=60, owner="a")
    assert [e.call_id for e in first] == ["call-00000", "call-00001", "call-00002"]
    assert all(e.attempts == 1 for e in first)
    second = outbox.claim(3, now, lease_s=60, owner="b")
    assert [e.call_id for e in second] == ["call-00003", "call-00004"]  # leased ones are not handed out twice
    assert outbox.claim(3, now, lease_s=60, owner="c") == []
    # a worker that died: its lease runs out and another worker takes the lead, attempt counted again
    again = outbox.claim(10, now + 61, lease_s=60, owner="d")
    assert [e.attempts for e in again] == [2, 2, 2, 2, 2]
    outbox.mark_delivered(["call-00000"], now + 62, owner="d")
    outbox.mark_failed("call-00001", "HTTP 500", now + 100, owner="d")
    outbox.mark_dead("call-00002", "HTTP 403", owner="d")
    outbox.mark_failed("call-00003", "stale owner", now + 100, owner="a")  # not a's lease any more: ignored
    counts = outbox.counts()
    assert counts == {LeadState.PENDING: 3, LeadState.DELIVERED: 1, LeadState.DEAD: 1}
    assert outbox.get("call-00001").last_error == "HTTP 500"
    assert outbox.get("call-00003").last_error is None
    assert outbox.next_due_at() == pytest.approx(now + 100, abs=0.01)
    outbox.close()


def test_dead_leads_are_listed_and_redriven_keeping_their_attempt_count(settings):
    outbox = open_outbox(settings, tz=MSK)
    outbox.enqueue(make_lead(1))
    outbox.enqueue(make_lead(2))
    now = time.time()
    for e in outbox.claim(5, now, 60, "w"):
        outbox.mark_dead(e.call_id, "HTTP 403 forbidden", "w")
    assert [e.call_id for e in outbox.list(LeadState.DEAD)] == ["call-00001", "call-00002"]
    assert outbox.retry_dead(["call-00002"]) == 1
    assert outbox.retry_dead() == 1
    assert outbox.retry_dead() == 0
    claimed = outbox.claim(5, time.time(), 60, "w2")
    assert [(e.attempts, e.attempts_this_round) for e in claimed] == [(2, 1), (2, 1)]
    outbox.close()


def test_concurrent_enqueues_from_many_threads_keep_one_entry_per_call(settings):
    outbox = open_outbox(settings, tz=MSK)
    results: list[bool] = []
    lock = threading.Lock()

    def end_call(n: int) -> None:
        new = outbox.enqueue(make_lead(n % 50))  # each call id enqueued twice
        with lock:
            results.append(new)

    threads = [threading.Thread(target=end_call, args=(n,)) for n in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 50
    assert len(outbox.list()) == 50
    outbox.close()


def test_workers_starting_at_once_share_one_new_postgres_table():
    """Agent workers of a cluster start together and each opens the outbox: a bare CREATE TABLE IF
    NOT EXISTS raced there (one worker died on pg_type's unique index, bench/bench_cluster.py)."""
    _postgres_or_skip()
    import psycopg

    failures: list[BaseException] = []
    for _ in range(5):  # the race needs the creators to overlap: a few fresh tables make it likely
        table = f"leads_race_{uuid.uuid4().hex[:10]}"
        settings = NotifySettings(outbox_backend="postgres", postgres_dsn=PG_DSN, postgres_table=table)
        barrier = threading.Barrier(6)
        opened = []

        def open_one(settings=settings, barrier=barrier, opened=opened) -> None:
            barrier.wait()
            try:
                opened.append(open_outbox(settings, tz=MSK))
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=open_one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        if opened:
            assert opened[0].enqueue(make_lead(1)) is True
        for outbox in opened:
            outbox.close()
        with psycopg.connect(PG_DSN) as db:
            db.execute(f"DROP TABLE IF EXISTS {table}")
    assert not failures, failures[:1]
