"""Twilio Media Streams bridge over a real WebSocket, replaying a recorded-shape session."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import warnings

import numpy as np
from bridge_helpers import FIXTURES, RecordedCall, Recorder, started, tone
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from salesagent.transport.call import Call, PlaybackState
from salesagent.transport.events import CallStopped, Dtmf, MarkPlayed

FIXTURE = [json.loads(line) for line in (FIXTURES / "twilio_call.jsonl").read_text().splitlines()]
STREAM_SID = FIXTURE[1]["streamSid"]
CALL_SID = FIXTURE[1]["start"]["callSid"]


def start_message(stream_sid: str, call_sid: str, **fmt: object) -> str:
    start = json.loads(json.dumps(FIXTURE[1]))
    start["streamSid"] = start["start"]["streamSid"] = stream_sid
    start["start"]["callSid"] = call_sid
    start["start"]["mediaFormat"].update(fmt)
    return json.dumps(start)


async def drain(ws: ClientConnection) -> None:
    """Read until the server closes (whatever the close code)."""
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


class FakeTwilio:
    """Plays Twilio's side: keeps a play clock for received media and echoes each mark when the
    audio before it has been played, or at once after a ``clear`` (as Twilio does)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[tuple[float, dict]] = []
        self.play_clock = 0.0
        self.echo_marks = True
        self._pending: list[asyncio.TimerHandle] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for raw in self.ws:
                now = time.monotonic()
                message = json.loads(raw)
                self.received.append((now, message))
                if message["event"] == "media":
                    n = len(base64.b64decode(message["media"]["payload"]))
                    self.play_clock = max(now, self.play_clock) + n / 8000
                elif message["event"] == "mark" and self.echo_marks:
                    echo = json.dumps({"event": "mark", "sequenceNumber": "99", "streamSid": message["streamSid"],
                                       "mark": message["mark"]})
                    delay = max(0.0, self.play_clock - now)
                    self._pending.append(loop.call_later(delay, lambda e=echo: asyncio.ensure_future(self._send(e))))
                elif message["event"] == "clear":
                    self.play_clock = now
                    for handle in self._pending:
                        handle._run()
                        handle.cancel()
                    self._pending.clear()
        except ConnectionClosed:
            pass

    async def _send(self, text: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(text)

    def events(self, kind: str) -> list[tuple[float, dict]]:
        return [(t, m) for t, m in self.received if m["event"] == kind]


async def test_replayed_session_delivers_decoded_audio_dtmf_and_stop(ws_server) -> None:
    recorder = Recorder()
    base = await ws_server(recorder)
    async with connect(f"{base}/twilio/media") as ws:
        for message in FIXTURE:
            await ws.send(json.dumps(message))
        await drain(ws)
        assert ws.close_code == 1000
    rec = await recorder.call(CALL_SID)
    await rec.wait(lambda r: r.stopped is not None)

    info = started(rec)
    assert (info.sample_rate, info.caller, info.metadata["streamSid"]) == (8000, "+79161234567", STREAM_SID)
    original = tone(440, 8000, 4000).astype(np.float64)
    decoded = np.frombuffer(rec.audio, dtype="<i2").astype(np.float64)
    assert decoded.shape == original.shape
    snr_db = 10 * np.log10(np.sum(original**2) / np.sum((decoded - original) ** 2))
    assert snr_db > 30  # G.711 mu-law gives ~35-38 dB on a sine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop  # an independent decoder while Python still ships it

    payloads = b"".join(base64.b64decode(m["media"]["payload"]) for m in FIXTURE if m["event"] == "media")
    assert rec.audio == audioop.ulaw2lin(payloads, 2)
    assert Dtmf("7") in rec.events
    assert rec.stopped == CallStopped("hangup", "stop")


async def test_outbound_media_marks_are_played_when_twilio_echoes_them(ws_server) -> None:
    speech = tone(300, 8000, 8000).tobytes()
    results: dict[str, object] = {}

    async def agent(call: Call, rec: RecordedCall) -> None:
        item = call.enqueue(speech, mark="greeting", text="Здравствуйте")
        results["played"] = await item.wait()
        results["item"] = item

    recorder = Recorder(agent)
    base = await ws_server(recorder)
    async with connect(f"{base}/twilio/media") as ws:
        twilio = FakeTwilio(ws)
        await ws.send(start_message("MZout", "CAout"))
        rec = await recorder.call("CAout")
        await rec.wait(lambda r: MarkPlayed("greeting") in r.events)
        media = twilio.events("media")
        marks = twilio.events("mark")
        await ws.send(json.dumps({"event": "stop", "streamSid": "MZout"}))
    assert results["played"] is True and results["item"].state is PlaybackState.PLAYED
    assert all(m["streamSid"] == "MZout" for _, m in media)
    payloads = [base64.b64decode(m["media"]["payload"]) for _, m in media]
    assert len(payloads) == 50 and all(len(p) == 160 for p in payloads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    assert b"".join(payloads) == audioop.lin2ulaw(speech, 2)
    assert media[-1][0] - media[0][0] > 0.8
    assert len(marks) == 1 and marks[0][0] >= media[-1][0]  # the mark follows its audio


async def test_unechoed_mark_is_not_played_and_clear_cuts_it(ws_server) -> None:
    results: dict[str, object] = {}

    async def agent(call: Call, rec: RecordedCall) -> None:
        item = call.enqueue(tone(300, 8000, 2400).tobytes(), mark="short")
        await rec.wait(lambda r: any(isinstance(e, Dtmf) for e in r.events))
        results["state_before_clear"] = item.state
        results["cut"] = call.clear()
        results["played"] = await item.wait()

    recorder = Recorder(agent)
    base = await ws_server(recorder)
    async with connect(f"{base}/twilio/media") as ws:
        twilio = FakeTwilio(ws)
        twilio.echo_marks = False  # Twilio has not played it (yet)
        await ws.send(start_message("MZclr", "CAclr"))
        rec = await recorder.call("CAclr")
        while not twilio.events("mark"):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        await ws.send(json.dumps({"event": "dtmf", "streamSid": "MZclr", "dtmf": {"digit": "#"}}))
        await rec.wait(lambda r: "played" in results)
        await asyncio.sleep(0.1)
        clears = twilio.events("clear")
        # A late echo of the cut mark (Twilio sends pending marks back after clear) is ignored.
        await ws.send(json.dumps({"event": "mark", "streamSid": "MZclr",
                                  "mark": twilio.events("mark")[0][1]["mark"]}))
        await ws.send(json.dumps({"event": "stop", "streamSid": "MZclr"}))
    await rec.wait(lambda r: r.stopped is not None)
    assert results["state_before_clear"] is PlaybackState.SENT
    assert results["played"] is False
    assert clears and clears[0][1] == {"event": "clear", "streamSid": "MZclr"}
    assert not any(isinstance(e, MarkPlayed) for e in rec.events)


async def test_bad_frames_end_one_call_while_another_carries_on(ws_server, caplog) -> None:
    recorder = Recorder()
    base = await ws_server(recorder)
    caplog.set_level(logging.ERROR, logger="salesagent.transport")
    media = [m for m in FIXTURE if m["event"] == "media"]
    async with connect(f"{base}/twilio/media") as good:
        await good.send(start_message("MZgood", "CAgood"))
        good_rec = await recorder.call("CAgood")
        for m in media[:10]:
            await good.send(json.dumps({**m, "streamSid": "MZgood"}))
        async with connect(f"{base}/twilio/media") as bad:
            await bad.send(start_message("MZbad", "CAbad"))
            bad_rec = await recorder.call("CAbad")
            await bad.send('{"event": "media", "media": {"payload": ')  # truncated JSON
            await drain(bad)
            assert bad.close_code == 1007
        async with connect(f"{base}/twilio/media") as wrong:
            await wrong.send(start_message("MZwrong", "CAwrong", encoding="audio/x-alaw"))
            await drain(wrong)
            assert wrong.close_code == 1007 and "mediaFormat" in wrong.close_reason
        for m in media[10:]:
            await good.send(json.dumps({**m, "streamSid": "MZgood"}))
        await good.send(json.dumps({"event": "stop", "streamSid": "MZgood"}))
    await good_rec.wait(lambda r: r.stopped is not None)
    await bad_rec.wait(lambda r: r.stopped is not None)
    assert good_rec.stopped.reason == "hangup" and len(good_rec.audio) == 8000
    assert bad_rec.stopped.reason == "error"
    assert "CAwrong" not in recorder.calls
    assert any(r.getMessage() == "Twilio stream rejected" for r in caplog.records)


async def test_abrupt_disconnect(ws_server) -> None:
    recorder = Recorder()
    base = await ws_server(recorder)
    ws = await connect(f"{base}/twilio/media")
    await ws.send(start_message("MZdrop", "CAdrop"))
    rec = await recorder.call("CAdrop")
    ws.transport.abort()
    await rec.wait(lambda r: r.stopped is not None)
    assert rec.stopped.reason == "disconnect"
