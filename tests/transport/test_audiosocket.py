"""Asterisk AudioSocket bridge over a real TCP socket, replaying a hand-built byte stream."""

from __future__ import annotations

import asyncio
import logging
import struct
import time
import uuid

import numpy as np
import pytest
from bridge_helpers import FIXTURES, RecordedCall, Recorder, started, tone

from salesagent.transport.call import Call, PlaybackState
from salesagent.transport.events import CallStopped, Dtmf, MarkPlayed

FIXTURE_UUID = "2f6f0f4e-8a55-4c1e-9d3b-5a0c1b7e9a11"


def msg(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack(">BH", kind, len(payload)) + payload


def uuid_msg(value: str) -> bytes:
    return msg(0x01, uuid.UUID(value).bytes)


class Peer:
    """Plays Asterisk: writes messages, records what comes back with arrival times."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.received: list[tuple[float, int, bytes]] = []
        self.eof = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, port: int) -> Peer:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def _read(self) -> None:
        try:
            while True:
                header = await self.reader.readexactly(3)
                kind, length = struct.unpack(">BH", header)
                payload = await self.reader.readexactly(length)
                self.received.append((time.monotonic(), kind, payload))
        except (asyncio.IncompleteReadError, ConnectionError):
            self.eof.set()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def stream(self, pcm: bytes) -> None:
        start = time.monotonic()
        for i, offset in enumerate(range(0, len(pcm), 320)):
            await asyncio.sleep(max(0.0, start + i * 0.02 - time.monotonic()))
            await self.send(msg(0x10, pcm[offset : offset + 320]))

    def audio_frames(self) -> list[tuple[float, bytes]]:
        return [(t, p) for t, kind, p in self.received if kind == 0x10]

    def close(self) -> None:
        self.writer.close()


async def test_replayed_call_delivers_audio_dtmf_and_hangup(audiosocket_server) -> None:
    recorder = Recorder()
    port = await audiosocket_server(recorder)
    peer = await Peer.connect(port)
    await peer.send((FIXTURES / "audiosocket_call.bin").read_bytes())
    rec = await recorder.call(FIXTURE_UUID)
    await rec.wait(lambda r: r.stopped is not None)

    assert started(rec).sample_rate == 8000
    assert rec.audio == tone(440, 8000, 4000).tobytes()
    assert Dtmf("5") in rec.events
    assert rec.stopped == CallStopped("hangup")
    assert [type(e).__name__ for e in rec.events][-2:] == ["Dtmf", "CallStopped"]
    await asyncio.wait_for(peer.eof.wait(), 5)  # the server closes the socket after the call


async def test_outbound_frames_are_320_bytes_paced_and_mark_is_reported(audiosocket_server) -> None:
    speech = tone(300, 8000, 8000).tobytes()  # 1 s
    results: dict[str, object] = {}

    async def agent(call: Call, rec: RecordedCall) -> None:
        item = call.enqueue(speech, mark="greeting", text="Здравствуйте")
        results["played"] = await call.wait_mark("greeting")
        results["item"] = item

    recorder = Recorder(agent)
    port = await audiosocket_server(recorder)
    peer = await Peer.connect(port)
    await peer.send(uuid_msg(FIXTURE_UUID))
    rec = await recorder.call(FIXTURE_UUID)
    await rec.wait(lambda r: any(isinstance(e, MarkPlayed) for e in r.events), timeout=10)

    frames = peer.audio_frames()
    assert len(frames) == 50
    assert all(len(p) == 320 for _, p in frames)
    assert b"".join(p for _, p in frames) == speech
    # Paced, not burst: 50 frames of 20 ms cannot arrive faster than ~1 s minus the lead.
    assert frames[-1][0] - frames[0][0] > 0.8
    assert results["played"] is True
    item = results["item"]
    assert item.state is PlaybackState.PLAYED and item.heard_fraction == pytest.approx(1.0)
    assert MarkPlayed("greeting") in rec.events
    peer.close()
    await rec.wait(lambda r: r.stopped is not None)
    assert rec.stopped.reason == "disconnect"


async def test_clear_stops_output_and_counts_only_what_was_heard(audiosocket_server) -> None:
    speech = tone(300, 8000, 8000 * 4).tobytes()  # 4 s
    cut: dict[str, object] = {}

    async def agent(call: Call, rec: RecordedCall) -> None:
        item = call.enqueue(speech, mark="long", text="очень длинная фраза")
        await rec.wait(lambda r: any(isinstance(e, Dtmf) for e in r.events))
        cut["items"] = call.clear()
        cut["played"] = await item.wait()

    recorder = Recorder(agent)
    port = await audiosocket_server(recorder)
    peer = await Peer.connect(port)
    await peer.send(uuid_msg(FIXTURE_UUID))
    rec = await recorder.call(FIXTURE_UUID)
    while len(peer.audio_frames()) < 25:  # the caller has heard ~0.5 s, then barges in
        await asyncio.sleep(0.01)
    await peer.send(msg(0x03, b"*"))
    await rec.wait(lambda r: "played" in cut)
    at_clear = len(peer.audio_frames())
    await asyncio.sleep(0.5)

    assert cut["played"] is False
    (item,) = cut["items"]
    assert item.state is PlaybackState.CLEARED
    assert 0.3 < item.heard_s < item.sent_s + 1e-9 < 3.0
    assert len(peer.audio_frames()) - at_clear <= 1  # nothing more after the clear took effect
    assert len(peer.audio_frames()) < 150
    assert not any(isinstance(e, MarkPlayed) for e in rec.events)
    peer.close()


async def test_malformed_call_ends_alone_while_another_call_carries_on(audiosocket_server, caplog) -> None:
    recorder = Recorder()
    port = await audiosocket_server(recorder)
    good_id, bad_id = str(uuid.uuid4()), str(uuid.uuid4())
    good, bad = await Peer.connect(port), await Peer.connect(port)
    await good.send(uuid_msg(good_id))
    await bad.send(uuid_msg(bad_id))
    good_rec, bad_rec = await recorder.call(good_id), await recorder.call(bad_id)
    pcm = tone(440, 8000, 1600).tobytes()
    with caplog.at_level(logging.ERROR, logger="salesagent.transport"):
        await bad.send(msg(0x10, b"\x01\x02\x03"))  # odd-length slin
        await bad_rec.wait(lambda r: r.stopped is not None)
        await asyncio.wait_for(bad.eof.wait(), 5)
    assert bad_rec.stopped.reason == "error" and "odd length" in (bad_rec.stopped.detail or "")
    assert any(kind == 0xFF for _, kind, _ in bad.received)
    assert any("protocol error" in r.message for r in caplog.records)

    await good.stream(pcm)
    await good.send(msg(0x00))
    await good_rec.wait(lambda r: r.stopped is not None)
    assert good_rec.audio == pcm
    assert good_rec.stopped.reason == "hangup"


async def test_first_message_must_be_uuid(audiosocket_server) -> None:
    recorder = Recorder()
    port = await audiosocket_server(recorder)
    peer = await Peer.connect(port)
    await peer.send(msg(0x10, b"\x00" * 320))
    await asyncio.wait_for(peer.eof.wait(), 5)
    assert [kind for _, kind, _ in peer.received] == [0xFF]
    assert recorder.calls == {}


async def test_abrupt_disconnect_and_agent_hangup(audiosocket_server) -> None:
    async def agent(call: Call, rec: RecordedCall) -> None:
        if call.call_id == hang_id:
            call.enqueue(tone(300, 8000, 800).tobytes())
            await call.hangup()  # after the 0.1 s goodbye has been played

    hang_id, drop_id = str(uuid.uuid4()), str(uuid.uuid4())
    recorder = Recorder(agent)
    port = await audiosocket_server(recorder)
    dropper = await Peer.connect(port)
    await dropper.send(uuid_msg(drop_id))
    drop_rec = await recorder.call(drop_id)
    dropper.writer.transport.abort()
    await drop_rec.wait(lambda r: r.stopped is not None)
    assert drop_rec.stopped.reason == "disconnect"

    hanger = await Peer.connect(port)
    await hanger.send(uuid_msg(hang_id))
    await asyncio.wait_for(hanger.eof.wait(), 5)
    kinds = [kind for _, kind, _ in hanger.received]
    assert kinds[-1] == 0x00 and kinds.count(0x10) == 5
    hang_rec = await recorder.call(hang_id)
    await hang_rec.wait(lambda r: r.stopped is not None)
    assert hang_rec.stopped.reason == "agent"


async def test_agent_audio_at_tts_rate_is_resampled_to_8k(audiosocket_server) -> None:
    async def agent(call: Call, rec: RecordedCall) -> None:
        call.enqueue(tone(500, 24000, 24000, 10000).tobytes(), sample_rate=24000, mark="done")

    recorder = Recorder(agent)
    port = await audiosocket_server(recorder)
    peer = await Peer.connect(port)
    await peer.send(uuid_msg(FIXTURE_UUID))
    rec = await recorder.call(FIXTURE_UUID)
    await rec.wait(lambda r: MarkPlayed("done") in r.events)
    out = np.frombuffer(b"".join(p for _, p in peer.audio_frames()), dtype="<i2").astype(np.float64)
    assert len(out) == 8000
    spectrum = np.abs(np.fft.rfft(out[1000:7000]))
    peak_hz = np.argmax(spectrum) * 8000 / 6000
    assert abs(peak_hz - 500) < 3
    peer.close()
