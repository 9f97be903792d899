"""FreeSWITCH mod_audio_fork bridge over a real WebSocket, driven by the audiofork client helper."""

from __future__ import annotations

import asyncio
import base64
import json
import logging

import numpy as np
from bridge_helpers import FIXTURES, RecordedCall, Recorder, started, tone
from websockets.asyncio.client import connect

from salesagent.transport.audiofork_client import AudioForkClient
from salesagent.transport.call import Call, PlaybackState
from salesagent.transport.events import AudioIn, CallStopped, Dtmf, MarkPlayed


async def test_stereo_16k_fixture_is_deinterleaved_to_the_caller_channel(ws_server) -> None:
    recorder = Recorder()
    base = await ws_server(recorder)
    metadata = json.loads((FIXTURES / "audiofork_stereo16k.meta.json").read_text())
    raw = (FIXTURES / "audiofork_stereo16k.raw").read_bytes()
    async with AudioForkClient(f"{base}/audiofork", metadata=metadata) as fork:
        assert fork.ws.subprotocol == "audio.drachtio.org"
        for offset in range(0, len(raw), 1280):  # 20 ms of 16 kHz stereo
            await fork.send_raw(raw[offset : offset + 1280])
        await fork.stop()
    assert fork.close_code == 1000
    rec = await recorder.call("5d7c1f9e-fs-stereo")
    await rec.wait(lambda r: r.stopped is not None)

    info = started(rec)
    assert (info.sample_rate, info.caller, info.metadata["to"]) == (16000, "+79161234567", "+74950000000")
    assert rec.audio == tone(440, 16000, 8000).tobytes()  # left channel only, bit-exact
    frames = [e for e in rec.events if isinstance(e, AudioIn)]
    assert len(frames) == 25 and all(f.sample_rate == 16000 for f in frames)
    assert [round(f.t, 3) for f in frames[:3]] == [0.0, 0.02, 0.04]
    assert rec.stopped == CallStopped("hangup", "zero-length frame")


async def test_rate_and_channels_from_url_query_and_dtmf(ws_server) -> None:
    recorder = Recorder()
    base = await ws_server(recorder)
    pcm = tone(440, 8000, 1600).tobytes()
    async with AudioForkClient(f"{base}/audiofork?sample_rate=8000&channels=2",
                               metadata={"callid": "q-1"}, channels=2) as fork:
        await fork.stream(pcm, realtime=False)
        await fork.dtmf("9")
        await fork.stop()
    rec = await recorder.call("q-1")
    await rec.wait(lambda r: r.stopped is not None)
    assert started(rec).sample_rate == 8000
    assert rec.audio == pcm
    assert Dtmf("9") in rec.events


async def test_streamed_agent_audio_is_framed_paced_and_marked(ws_server) -> None:
    played: dict[str, object] = {}

    async def agent(call: Call, rec: RecordedCall) -> None:
        # TTS output at 24 kHz; the bridge converts it to the fork's 16 kHz.
        item = call.enqueue(tone(500, 24000, 24000, 10000).tobytes(), mark="hello", sample_rate=24000)
        played["ok"] = await call.wait_mark("hello")
        played["item"] = item

    recorder = Recorder(agent)
    base = await ws_server(recorder)
    async with AudioForkClient(f"{base}/audiofork", metadata={"uuid": "s-1", "sampling": "16k"},
                               sample_rate=16000) as fork:
        rec = await recorder.call("s-1")
        await rec.wait(lambda r: MarkPlayed("hello") in r.events)
        audio = [r for r in fork.received if r.kind == "audio"]
        await fork.stop()
    assert played["ok"] is True and played["item"].state is PlaybackState.PLAYED
    assert all(len(r.pcm) == 640 for r in audio) and len(audio) == 50
    assert audio[-1].t - audio[0].t > 0.8  # real-time pace, not a burst
    out = np.frombuffer(b"".join(r.pcm for r in audio), dtype="<i2").astype(np.float64)
    peak_hz = np.argmax(np.abs(np.fft.rfft(out[2000:14000]))) * 16000 / 12000
    assert abs(peak_hz - 500) < 3


async def test_clear_sends_kill_audio_and_stops_the_stream(ws_server) -> None:
    cut: dict[str, object] = {}

    async def agent(call: Call, rec: RecordedCall) -> None:
        call.enqueue(tone(300, 8000, 24000).tobytes(), mark="long")
        await rec.wait(lambda r: any(isinstance(e, Dtmf) for e in r.events))
        cut["items"] = call.clear()

    recorder = Recorder(agent)
    base = await ws_server(recorder)
    async with AudioForkClient(f"{base}/audiofork", metadata={"uuid": "k-1"}) as fork:
        await fork.wait_for("audio", count=20)
        await fork.dtmf("1")
        kill = await fork.wait_for("killAudio")
        await asyncio.sleep(0.3)
        after_kill = [r for r in fork.received if r.kind == "audio" and r.t > kill.t]
        total = [r for r in fork.received if r.kind == "audio"]
        await fork.stop()
    assert kill.message == {"type": "killAudio"}
    assert after_kill == []
    assert len(total) < 100  # of 150 frames queued
    (item,) = cut["items"]
    assert item.state is PlaybackState.CLEARED and 0 < item.heard_s <= item.sent_s < item.duration_s


async def test_playaudio_mode_sends_json_chunks_with_text(ws_server) -> None:
    async def agent(call: Call, rec: RecordedCall) -> None:
        call.enqueue(tone(300, 8000, 12000).tobytes(), mark="p", text="Добрый день!")

    recorder = Recorder(agent)
    base = await ws_server(recorder, playaudio_chunk_ms=500)
    async with AudioForkClient(f"{base}/audiofork?playback=playaudio", metadata={"uuid": "pa-1"}) as fork:
        rec = await recorder.call("pa-1")
        await rec.wait(lambda r: MarkPlayed("p") in r.events)
        chunks = [r for r in fork.received if r.kind == "playAudio"]
        await fork.stop()
    assert len(chunks) == 3
    data = [c.message["data"] for c in chunks]
    assert all(d["audioContentType"] == "raw" and d["sampleRate"] == 8000 for d in data)
    assert data[0]["textContent"] == "Добрый день!" and "textContent" not in data[1]
    assert b"".join(base64.b64decode(d["audioContent"]) for d in data) == tone(300, 8000, 12000).tobytes()
    assert chunks[2].t - chunks[0].t > 0.7  # 1.5 s of audio, one chunk ahead


async def test_bad_calls_end_alone_while_a_good_call_carries_on(ws_server, caplog) -> None:
    recorder = Recorder()
    base = await ws_server(recorder)
    url = f"{base}/audiofork"
    pcm = tone(440, 8000, 1600).tobytes()
    caplog.set_level(logging.ERROR, logger="salesagent.transport")
    async with AudioForkClient(url, metadata={"uuid": "good"}) as good:
        good_rec = await recorder.call("good")
        await good.stream(pcm[:1600])
        for bad_metadata in ("{not json", json.dumps({"uuid": "x", "sample_rate": 44100}), "[1, 2]"):
            async with AudioForkClient(url, metadata=bad_metadata) as bad:
                await bad.wait_closed()
            assert bad.close_code == 1007, bad_metadata
        async with AudioForkClient(url, metadata={"uuid": "odd"}) as odd:
            odd_rec = await recorder.call("odd")
            await odd.send_raw(b"\x00\x01\x02")
            await odd.wait_closed()
        assert odd.close_code == 1007 and "multiple of 2" in (odd.close_reason or "")
        await good.stream(pcm[1600:])
        await good.stop()
    await good_rec.wait(lambda r: r.stopped is not None)
    await odd_rec.wait(lambda r: r.stopped is not None)
    assert good_rec.audio == pcm and good_rec.stopped.reason == "hangup"
    assert odd_rec.stopped.reason == "error"
    assert set(recorder.calls) == {"good", "odd"}  # rejected metadata never reached the handler
    errors = [r.getMessage() for r in caplog.records]
    assert errors.count("mod_audio_fork start rejected") == 3 and "protocol error, ending call" in errors


async def test_abrupt_disconnect_and_agent_hangup(ws_server) -> None:
    async def agent(call: Call, rec: RecordedCall) -> None:
        if call.call_id == "hang":
            call.enqueue(tone(300, 8000, 800).tobytes())
            await call.hangup()

    recorder = Recorder(agent)
    base = await ws_server(recorder)
    async with AudioForkClient(f"{base}/audiofork", metadata={"uuid": "drop"}) as fork:
        rec = await recorder.call("drop")
        await fork.abort()
    await rec.wait(lambda r: r.stopped is not None)
    assert rec.stopped.reason == "disconnect"

    async with AudioForkClient(f"{base}/audiofork", metadata={"uuid": "hang"}) as fork:
        await fork.wait_closed()
    assert [r.kind for r in fork.received].count("audio") == 5
    assert fork.received[-1].kind == "disconnect" and fork.close_code == 1000
    rec = await recorder.call("hang")
    await rec.wait(lambda r: r.stopped is not None)
    assert rec.stopped.reason == "agent"


async def test_empty_metadata_starts_with_audio_and_default_rate(ws_server) -> None:
    recorder = Recorder()
    base = await ws_server(recorder, audiofork_rate=16000)
    pcm = tone(440, 16000, 640).tobytes()
    async with connect(f"{base}/audiofork", subprotocols=["audio.drachtio.org"]) as ws:
        await ws.send(pcm)
        await ws.send(b"")
        async for _ in ws:  # ends when the server closes
            pass
    rec = await recorder.call()
    await rec.wait(lambda r: r.stopped is not None)
    assert rec.call.call_id.startswith("fork-") and started(rec).sample_rate == 16000
    assert rec.audio == pcm
