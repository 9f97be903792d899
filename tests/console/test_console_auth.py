"""Without a login every console page redirects to the login page and every API answers 401; bad
input is a clear 4xx; the calls list stays fast with 10,000 calls (real server, real SQLite)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from salesagent.console import mount_console
from salesagent.console.auth import hash_password, verify_password
from support.live_server import ThreadedServer

PAGES = ["/console", "/console/calls", "/console/calls/x1", "/console/leads", "/console/live", "/console/numbers",
         "/console/phone"]
APIS = ["/console/api/calls", "/console/api/calls/x1", "/console/api/calls/x1/recording", "/console/api/leads",
        "/console/api/live", "/console/api/numbers"]


def _reports(root: Path, n: int) -> None:
    t0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
    for i in range(n):
        started = t0 + timedelta(minutes=7 * i)
        folder = root / started.date().isoformat() / f"call-{i:05d}"
        folder.mkdir(parents=True)
        report = {"call_id": f"call-{i:05d}", "transport": "twilio", "caller": f"+7916{i:07d}",
                  "started_at": started.isoformat(), "duration_s": 60 + i % 90,
                  "status": ["booked", "declined", "abandoned"][i % 3], "variant": "AB"[i % 2],
                  "state_path": ["greeting", "needs", "offer"][: 1 + i % 3],
                  "slots": {"study_type": ["МРТ колена", "КТ"][i % 2], "provenance": {}},
                  "transcript": [{"role": "caller", "text": "да", "start": 1.0, "confidence": 0.9}],
                  "latency": {"turns": [{"turn": 1, "voice_to_voice_ms": 700 + i % 300, "stages_ms": {}}],
                              "voice_to_voice_ms": {"p50": 700 + i % 300}}}
        (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False), "utf-8")


@pytest.fixture
def server(tmp_path: Path, console_login: tuple[str, str]):
    app = FastAPI()
    mount_console(app, calls_root=tmp_path / "calls", db_path=tmp_path / "console.sqlite3")
    srv = ThreadedServer(app)
    yield srv
    srv.stop()


def _login(base: str, user: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    r = client.post("/console/login", data={"username": user, "password": password, "next": "/console/calls"})
    assert r.status_code == 303 and r.headers["location"] == "/console/calls"
    return httpx.Client(base_url=base, timeout=30, cookies=client.cookies)


def test_without_login_pages_redirect_and_apis_answer_401(server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for path in PAGES:
            r = client.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/console/login"), path
        for path in APIS:
            assert client.get(path).status_code == 401, path
        assert client.post("/console/api/leads/x1/retry").status_code == 401
        bad = client.post("/console/login", data={"username": "registrar", "password": "wrong"})
        assert bad.status_code == 303 and "error=1" in bad.headers["location"]
        client.cookies.set("salesagent_console", "registrar|9999999999|00")
        assert client.get("/console/api/calls").status_code == 401


def test_phone_websocket_needs_a_login(server: ThreadedServer) -> None:
    """The handshake is refused (HTTP 403) before any audio can flow."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(f"{server.ws_url}/console/phone/ws", open_timeout=5)
    assert refused.value.response.status_code == 403


def test_browser_phone_start_frame_is_checked() -> None:
    from salesagent.transport.browser import parse_start
    from salesagent.transport.runner import ProtocolError

    assert parse_start('{"event": "start", "sample_rate": 8000}', "registrar").sample_rate == 8000
    for bad in (None, "not json", '{"event": "media"}', '{"event": "start", "sample_rate": 44100}',
                '{"event": "start", "sample_rate": true}', "[]"):
        with pytest.raises(ProtocolError):
            parse_start(bad)


def test_bad_input_is_a_clear_4xx(server: ThreadedServer, console_login: tuple[str, str]) -> None:
    client = _login(server.url, *console_login)
    with client:
        assert client.get("/console/api/calls?day=yesterday").status_code == 422
        assert client.get("/console/api/calls?page=0").status_code == 422
        assert client.get("/console/api/calls/../../etc/passwd").status_code == 404
        assert client.get("/console/api/calls/nope").status_code == 404
        assert client.post("/console/api/leads/nope/retry").status_code == 409  # no outbox in this app
        assert client.get("/console/login?next=https://evil.example").status_code == 200
        r = client.post("/console/login", data={"username": "registrar", "password": "x", "next": "//evil.example"})
        assert "evil" not in r.headers["location"].split("next=")[0]


def test_passwords_are_scrypt_hashes() -> None:
    stored = hash_password("секретный пароль")
    assert stored.startswith("scrypt$") and "секрет" not in stored
    assert verify_password("секретный пароль", stored) and not verify_password("другой", stored)
    assert not verify_password("x", "not-a-hash")


def test_calls_list_is_fast_with_10000_calls(tmp_path: Path, server: ThreadedServer,
                                             console_login: tuple[str, str]) -> None:
    _reports(tmp_path / "calls", 10_000)
    client = _login(server.url, *console_login)
    with client:
        t0 = time.perf_counter()
        first = client.get("/console/calls")  # the backfill: reads every report once
        backfill_s = time.perf_counter() - t0
        assert first.status_code == 200 and "10000" in first.text
        timings = []
        for url in ("/console/calls", "/console/calls?page=50", "/console/calls?status=booked&study=КТ",
                    "/console/api/numbers"):
            t0 = time.perf_counter()
            assert client.get(url).status_code == 200
            timings.append(time.perf_counter() - t0)
        page = client.get("/console/api/calls?day=2026-11-02").json()
        assert page["total"] > 0 and all(c["day"] == "2026-11-02" for c in page["calls"])
        newest = client.get("/console/api/calls").json()["calls"]
        assert newest[0]["call_id"] == "call-09999" and newest[0]["caller_masked"].endswith("99-99")
    print(f"\n10,000 calls: backfill {backfill_s:.2f} s, then pages {', '.join(f'{t * 1000:.0f} ms' for t in timings)}")
    assert max(timings) < 1.0, timings


def test_add_user_prints_a_hash_that_logs_in() -> None:
    from typer.testing import CliRunner

    from salesagent.cli.main import app
    from salesagent.console.auth import parse_users

    result = CliRunner().invoke(app, ["console", "add-user", "registrar"],
                                env={"SALESAGENT_CONSOLE_PASSWORD": "long-enough-1"})
    assert result.exit_code == 0, result.output
    users = parse_users(result.output.strip())
    assert verify_password("long-enough-1", users["registrar"])
    short = CliRunner().invoke(app, ["console", "add-user", "x"], env={"SALESAGENT_CONSOLE_PASSWORD": "short"})
    assert short.exit_code != 0
