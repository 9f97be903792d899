"""``salesagent leads`` commands, and the signed webhook sink against a real local HTTP receiver."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from notify_helpers import MSK, drain_all, make_lead
from pydantic import SecretStr
from typer.testing import CliRunner

from salesagent.cli.leads import app
from salesagent.notify import COLUMNS, DeliveryWorker, LeadState, NotifySettings, build_sink, open_outbox

runner = CliRunner()


def _outbox_with_states():
    outbox = open_outbox(NotifySettings(), tz=MSK)
    for n in range(3):
        outbox.enqueue(make_lead(n, client_name="=cmd|' /C calc'!A0" if n == 2 else f"Клиент {n}"))
    claimed = outbox.claim(10, time.time(), 60, "t")
    outbox.mark_delivered([claimed[0].call_id], time.time(), "t")
    outbox.mark_dead(claimed[1].call_id, "HTTP 403: The caller does not have permission", "t")
    outbox.mark_failed(claimed[2].call_id, "HTTP 500", time.time() - 1, "t")
    return outbox


def test_list_shows_each_lead_state():
    _outbox_with_states().close()
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(x["call_id"], x["state"], x["attempts"]) for x in lines] == [
        ("call-00000", "delivered", 1),
        ("call-00001", "dead", 1),
        ("call-00002", "pending", 1),
    ]
    assert "403" in lines[1]["last_error"]
    table = runner.invoke(app, ["list"])
    assert table.exit_code == 0 and "pending=1 delivered=1 dead=1" in table.output
    assert "+7916***0001" in table.output  # phones masked on screen


def test_retry_moves_dead_back_to_pending():
    _outbox_with_states().close()
    result = runner.invoke(app, ["retry"])
    assert result.exit_code == 0 and result.output.startswith("1 dead lead(s)")
    outbox = open_outbox(NotifySettings(), tz=MSK)
    assert outbox.get("call-00001").state is LeadState.PENDING


def test_export_csv_has_sheet_columns_and_neutralises_formulas(tmp_path):
    _outbox_with_states().close()
    target = tmp_path / "leads.csv"
    result = runner.invoke(app, ["export", "--csv", str(target)])
    assert result.exit_code == 0, result.output
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [*COLUMNS, "Доставка"]
    assert [r[10] for r in rows[1:]] == ["call-00000", "call-00001", "call-00002"]
    assert [r[11] for r in rows[1:]] == ["delivered", "dead", "pending"]
    assert rows[1][:10] == make_lead(0).to_row(MSK)[:10]
    assert rows[3][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][2] == "+79160000000"  # a phone is not mistaken for a formula
    only_dead = runner.invoke(app, ["export", "--csv", str(target), "--state", "dead"])
    assert only_dead.exit_code == 0 and only_dead.output.startswith("1 lead(s)")


def test_bad_input_is_one_line_and_exit_code_2(tmp_path, monkeypatch):
    result = runner.invoke(app, ["list", "--state", "lost"])
    assert result.exit_code == 2 and "--state must be one of pending, delivered, dead" in result.output
    result = runner.invoke(app, ["export", "--csv", str(tmp_path / "no-such-dir" / "x.csv")])
    assert result.exit_code == 2 and "cannot write" in result.output
    monkeypatch.setenv("GOOGLE_SHEET_ID", "abc")  # credentials missing
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "GOOGLE_CREDENTIALS_PATH" in result.output
    monkeypatch.delenv("GOOGLE_SHEET_ID")
    monkeypatch.setenv("SALESAGENT_NOTIFY_OUTBOX_BACKEND", "redis")
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 2 and "use postgres" in result.output


@pytest.fixture
def restore_logging():
    """The worker command installs the JSON log handler on the root logger; undo it afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_worker_once_delivers_to_local_sheet(restore_logging):
    outbox = open_outbox(NotifySettings(), tz=MSK)
    outbox.enqueue(make_lead(1))
    outbox.enqueue(make_lead(2))
    outbox.close()
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "2 lead(s) delivered; pending=0 delivered=2 dead=0"
    from salesagent.notify.sinks.xlsx import XlsxSink

    rows = XlsxSink(NotifySettings().resolved_xlsx_path()).read_rows()
    assert [r[10] for r in rows[1:]] == ["call-00001", "call-00002"]


@pytest.fixture
def receiver():
    """A CRM endpoint: verifies the signature, de-duplicates on call_id, fails on request."""
    state = {"secret": b"s3cret", "seen": {}, "posts": [], "fail": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return None

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ts = self.headers["X-Salesagent-Timestamp"]
            want = "sha256=" + hmac.new(state["secret"], ts.encode() + b"." + body, hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(want, self.headers["X-Salesagent-Signature"])
            state["posts"].append((ok, json.loads(body)))
            status = 401 if not ok else 503 if state["fail"] > 0 else 200
            if state["fail"] > 0:
                state["fail"] -= 1
            if status == 200:
                for lead in json.loads(body)["leads"]:
                    state["seen"].setdefault(lead["call_id"], lead)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/leads"
    yield state
    server.shutdown()
    server.server_close()


async def test_webhook_posts_signed_json(receiver):
    settings = NotifySettings(
        sink="webhook", webhook_url=receiver["url"], webhook_secret="s3cret", backoff_initial_s=0.05,
        backoff_max_s=0.1, request_timeout_s=2, lease_s=5,
    )  # fmt: skip
    receiver["fail"] = 1
    outbox = open_outbox(settings, tz=MSK)
    outbox.enqueue(make_lead(1))
    sink = build_sink(settings)
    await drain_all(DeliveryWorker.from_settings(outbox, sink, settings))
    await sink.aclose()
    assert [ok for ok, _ in receiver["posts"]] == [True, True]
    lead = receiver["seen"]["call-00001"]
    assert lead["columns"] == dict(zip(COLUMNS, make_lead(1).to_row(MSK), strict=True))
    # a wrong secret is rejected by the receiver and the lead is dead-lettered (401 is not our retry case)
    bad = settings.model_copy(update={"webhook_secret": SecretStr("wrong"), "max_attempts": 1})
    outbox.enqueue(make_lead(2))
    sink = build_sink(bad)
    await drain_all(DeliveryWorker.from_settings(outbox, sink, bad))
    await sink.aclose()
    assert receiver["posts"][-1][0] is False
    assert outbox.get("call-00002").state is LeadState.DEAD
