"""Issue 12, findings 2 and 3: expiry never costs a lead.

2. The sweeper deleted every expired session first and closed them after, so one that could not
   become a lead (a call id of 300 characters with whitespace, or a document that does not parse)
   stopped the loop and the others vanished without a lead.
3. A call heard again after its TTL but before the sweep was silently replaced by a fresh
   session: the caller's name and the lead were gone.
"""

from __future__ import annotations

import sqlite3
import time

import httpx
import pytest

from salesagent.config import get_settings
from salesagent.services.dialog_api import create_app
from salesagent.services.factory import build_service
from support.live_server import ThreadedServer

ODD_ID = "sip call\t" + "Ж" * 280 + "\x00\x1b[31m end\n"  # 300 chars, spaces and controls


@pytest.fixture
def service(store_backend, profile):
    svc = build_service(get_settings(), profile=profile)
    yield svc
    svc.store.close()


def backdate(service, *session_ids: str, seconds: float = 7200) -> None:
    """Make sessions look idle for ``seconds`` by moving their activity time in the real store."""
    store = service.store
    if hasattr(store, "r"):  # Redis: the activity sorted set
        for sid in session_ids:
            store.r.zadd(store._activity, {sid: time.time() - seconds})
        return
    with sqlite3.connect(store.path) as db:
        for sid in session_ids:
            db.execute("UPDATE sessions SET touched = touched - ? WHERE id = ?", (seconds, sid))


def corrupt_document(service, session_id: str) -> None:
    store = service.store
    if hasattr(store, "r"):
        store.r.set(store._key(session_id), b"{not a session")
        return
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE sessions SET doc = '{not a session' WHERE id = ?", (session_id,))


def leads(service) -> dict[str, object]:
    return {e.call_id: e.lead for e in service.leads.outbox.list()}


def start_calls(service, names: dict[str, str]) -> None:
    for sid, name in names.items():
        service.handle_sync(sid, "")
        service.handle_sync(sid, f"меня зовут {name}")


def test_odd_call_id_becomes_a_lead_and_the_others_keep_theirs(service) -> None:
    assert len(ODD_ID) == 300
    names = {ODD_ID: "Ольга", "exp-1": "Анна", "exp-2": "Мария", "exp-3": "Ирина"}
    start_calls(service, names)
    backdate(service, *names)
    assert service.sweep_sync() == 4
    found = leads(service)
    assert {sid: found[sid].slots.client_name for sid in ("exp-1", "exp-2", "exp-3")} == {
        "exp-1": "Анна", "exp-2": "Мария", "exp-3": "Ирина"}
    odd = next(lead for lead in found.values() if lead.original_call_id is not None)
    assert odd.original_call_id == ODD_ID  # the bridge's id is kept as it was
    assert len(odd.call_id) <= 256 and not any(c.isspace() or ord(c) < 32 for c in odd.call_id)
    assert odd.slots.client_name == "Ольга" and odd.status.value == "abandoned"
    assert service.store.expired_ids() == []


def test_one_broken_session_is_kept_and_logged_while_the_rest_get_leads(service, caplog) -> None:
    names = {"bad-1": "Ольга", "ok-1": "Анна", "ok-2": "Мария"}
    start_calls(service, names)
    corrupt_document(service, "bad-1")
    backdate(service, *names)
    assert service.sweep_sync() == 2
    assert {k: v.slots.client_name for k, v in leads(service).items()} == {"ok-1": "Анна", "ok-2": "Мария"}
    assert service.store.expired_ids() == ["bad-1"]  # kept, tried again on the next sweep
    failures = [r for r in caplog.records if r.getMessage().startswith("expired session not closed")]
    assert len(failures) == 1 and failures[0].context == {"session_id": "bad-1"}


def test_sweeping_twice_or_from_two_services_gives_one_lead(service, profile) -> None:
    start_calls(service, {"twice-1": "Анна"})
    backdate(service, "twice-1")
    other = build_service(get_settings(), profile=profile)  # a second replica on the same store
    try:
        assert service.sweep_sync() + other.sweep_sync() == 1
    finally:
        other.store.close()
    assert [e.call_id for e in service.leads.outbox.list()] == ["twice-1"]


def test_call_revisited_after_ttl_continues_over_http(service) -> None:
    server = ThreadedServer(create_app(service, sweep_interval_s=3600))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.post("/dialog", json={"session_id": "back-1", "text": ""}).raise_for_status()
            first = client.post("/dialog", json={"session_id": "back-1", "text": "меня зовут Ольга"}).json()
            assert first["slots"]["client_name"] == "Ольга"
            backdate(service, "back-1")
            assert client.get("/session/back-1").status_code == 404  # expired for readers
            again = client.post("/dialog", json={"session_id": "back-1", "text": "хочу на мрт колена"})
            assert again.status_code == 200, again.text
            body = again.json()
            assert body["slots"]["client_name"] == "Ольга"  # the same call, continued
            assert body["state"] != "GREETING"
            assert client.delete("/session/back-1").status_code == 200
    finally:
        server.stop()
    found = leads(service)
    assert list(found) == ["back-1"] and found["back-1"].slots.client_name == "Ольга"
