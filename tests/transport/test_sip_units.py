"""SIP edge parts that need no SIP peer: settings, the playout buffer, playAudio decoding, the pcap
writer, the CLI's error paths, and the WebSocket leg against a real ``audio.drachtio.org`` server."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from websockets.asyncio.server import ServerConnection, serve

from salesagent.transport.g711 import ulaw_decode
from salesagent.transport.sip.config import SipSettings
from salesagent.transport.sip.fork import AudioForkLeg, AudioForkUnavailableError, decode_play_audio
from salesagent.transport.sip.link import FRAME_BYTES, SipCallLink, caller_from_uri
from salesagent.transport.sip.pcap import write_rtp_pcap
from salesagent.transport.sip.playout import PlayoutBuffer


def tone(freq: float, seconds: float, rate: int, amp: float = 0.5) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def dominant_hz(pcm: bytes, rate: int) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


# --- settings ------------------------------------------------------------------------------------
def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESAGENT_SIP_PORT", "5080")
    monkeypatch.setenv("SALESAGENT_SIP_AUDIOFORK_URL", "wss://agent.example/audiofork")
    monkeypatch.setenv("SALESAGENT_SIP_MAX_CALLS", "3")
    s = SipSettings()
    assert (s.port, s.audiofork_url, s.max_calls) == (5080, "wss://agent.example/audiofork", 3)
    assert s.advertised_address is None  # bound to 0.0.0.0: let pjsip pick the interface address
    assert SipSettings(host="10.1.2.3").advertised_address == "10.1.2.3"
    assert SipSettings(host="10.1.2.3", public_address="203.0.113.7").advertised_address == "203.0.113.7"


@pytest.mark.parametrize("bad", [
    {"audiofork_url": "http://127.0.0.1:8090/audiofork"},
    {"port": 0},
    {"rtp_port": 65000, "rtp_port_range": 1000},
    {"codecs": ("G729",)},
    {"user": "bad user"},
    {"max_calls": 0},
])
def test_bad_settings_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        SipSettings(**bad)


# --- caller identity -----------------------------------------------------------------------------
@pytest.mark.parametrize(("uri", "caller"), [
    ('"Иван" <sip:+79161234567@pbx.example;user=phone>', "+79161234567"),
    ("<sips:alice@example.org>", "alice"),
    ("sip:84951234567@10.0.0.1:5060", "84951234567"),
    ("<sip:example.org>", None),
    ("", None),
])
def test_caller_from_uri(uri: str, caller: str | None) -> None:
    assert caller_from_uri(uri) == caller


# --- playout buffer ------------------------------------------------------------------------------
def test_playout_fifo_pads_with_silence_and_clears() -> None:
    buf = PlayoutBuffer(max_bytes=10_000)
    buf.push(b"\x01\x00" * 100)
    buf.push(b"\x02\x00" * 100)
    first = buf.pull(FRAME_BYTES)
    assert first == b"\x01\x00" * 100 + b"\x02\x00" * 60
    second = buf.pull(FRAME_BYTES)
    assert second == b"\x02\x00" * 40 + b"\x00" * 240  # underrun: the rest is silence
    assert buf.underruns == 1
    assert buf.pull(FRAME_BYTES) == b"\x00" * FRAME_BYTES
    buf.push(b"\x03\x00" * 500)
    assert buf.clear() == 1000
    assert buf.pull(4) == b"\x00" * 4


def test_playout_keeps_samples_whole_across_odd_pushes_and_caps_memory() -> None:
    buf = PlayoutBuffer(max_bytes=8)
    buf.push(b"\x01")
    buf.push(b"\x02\x03")
    assert len(buf) == 2 and buf.pull(2) == b"\x01\x02"
    buf.push(b"\x04" + b"\x05" * 20)  # with the carried \x03: 22 bytes into 8 bytes of room
    assert len(buf) == 8
    assert buf.dropped_bytes == 14
    assert buf.pull(8) == b"\x03\x04" + b"\x05" * 6


def test_playout_is_safe_between_a_pushing_and_a_pulling_thread() -> None:
    """The asyncio thread pushes while pjmedia's clock pulls: every byte comes out once, in order."""
    buf = PlayoutBuffer(max_bytes=10_000_000)
    data = np.arange(1, 30001, dtype="<i2")  # no zero samples, so padding is easy to strip
    out = bytearray()
    done = threading.Event()

    def pull() -> None:
        while not done.is_set() or len(buf):
            out.extend(buf.pull(FRAME_BYTES))

    puller = threading.Thread(target=pull)
    puller.start()
    raw = data.tobytes()
    for i in range(0, len(raw), 999):  # odd sizes on purpose: samples split across pushes
        buf.push(raw[i : i + 999])
    done.set()
    puller.join(10)
    got = np.frombuffer(bytes(out), dtype="<i2")
    assert np.array_equal(got[got != 0], data)


# --- playAudio -----------------------------------------------------------------------------------
def test_play_audio_raw_16k_is_resampled_to_8k() -> None:
    pcm16k = tone(440, 1.0, 16000)
    out = decode_play_audio({"audioContentType": "raw", "sampleRate": 16000,
                             "audioContent": base64.b64encode(pcm16k).decode()})
    assert abs(len(out) - 16000) <= 8  # one second at 8 kHz
    assert abs(dominant_hz(out, 8000) - 440) < 5


def test_play_audio_wave_stereo_8k() -> None:
    left = np.frombuffer(tone(1000, 0.5, 8000), dtype="<i2")
    stereo = np.column_stack([left, np.zeros_like(left)]).ravel().tobytes()
    raw = io.BytesIO()
    with wave.open(raw, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(stereo)
    out = decode_play_audio({"audioContentType": "wave", "audioContent": base64.b64encode(raw.getvalue()).decode()})
    assert out == left.tobytes()


@pytest.mark.parametrize(("data", "error"), [
    ({}, "audioContent"),
    ({"audioContent": "***not base64***"}, "base64"),
    ({"audioContent": base64.b64encode(b"abc").decode()}, "even number"),
    ({"audioContentType": "mp3", "audioContent": ""}, "not supported"),
    ({"audioContentType": "wave", "audioContent": base64.b64encode(b"RIFFjunk").decode()}, "WAV"),
])
def test_bad_play_audio_is_a_clear_error(data: dict, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        decode_play_audio(data)


# --- pcap writer ---------------------------------------------------------------------------------
def test_pcap_holds_20ms_pcmu_rtp_packets(tmp_path: Path) -> None:
    pcm = tone(300, 1.01, 8000)  # 1.01 s: 51 packets, the last padded
    path = tmp_path / "speech.pcap"
    assert write_rtp_pcap(path, pcm) == 51
    blob = path.read_bytes()
    magic, major, minor, _, _, _snaplen, linktype = struct.unpack("<IHHiIII", blob[:24])
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, 1)
    offset, stamps, audio, seqs = 24, [], bytearray(), []
    while offset < len(blob):
        sec, usec, incl, orig = struct.unpack("<IIII", blob[offset : offset + 16])
        frame = blob[offset + 16 : offset + 16 + incl]
        offset += 16 + incl
        assert incl == orig == 14 + 20 + 8 + 12 + 160
        assert frame[12:14] == b"\x08\x00" and frame[14] == 0x45 and frame[23] == 17  # IPv4, UDP
        rtp = frame[42:]
        assert rtp[0] == 0x80 and rtp[1] & 0x7F == 0  # RTP v2, PT 0 (PCMU)
        seqs.append(struct.unpack("!H", rtp[2:4])[0])
        stamps.append(sec + usec / 1e6)
        audio += ulaw_decode(rtp[12:])
    assert np.allclose(np.diff(stamps), 0.02)
    assert seqs == list(range(seqs[0], seqs[0] + 51))
    assert abs(dominant_hz(bytes(audio[: len(pcm)]), 8000) - 300) < 3


# --- the WebSocket leg against a real audio.drachtio.org server ---------------------------------
async def test_fork_leg_speaks_mod_audio_fork() -> None:
    """Metadata first, caller frames pushed from a foreign thread (as pjmedia's clock does), agent
    L16 into playout, killAudio flushes, playAudio plays, zero-length frame on hangup."""
    seen: dict[str, object] = {"binary": []}
    released = asyncio.Event()

    async def agent(ws: ServerConnection) -> None:
        seen["subprotocol"] = ws.subprotocol
        seen["metadata"] = json.loads(await ws.recv())
        await ws.send(b"\x11\x00" * 4000)  # 1 s of agent audio
        await ws.send(json.dumps({"type": "killAudio"}))
        await ws.send(json.dumps({"type": "playAudio", "data": {
            "audioContentType": "raw", "sampleRate": 8000,
            "audioContent": base64.b64encode(b"\x22\x00" * 80).decode()}}))
        await ws.send("not json")  # ignored, not fatal
        released.set()
        async for message in ws:
            seen["binary"].append(message)  # type: ignore[union-attr]

    loop = asyncio.get_running_loop()
    async with serve(agent, "127.0.0.1", 0, subprotocols=["audio.drachtio.org"]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        link = SipCallLink(key=1, call_id="abc@host", from_uri='"Ivan" <sip:+79161234567@pbx>',
                           to_uri="<sip:agent@edge>", loop=loop, playout=PlayoutBuffer(1_000_000))
        leg = AudioForkLeg(link, f"ws://127.0.0.1:{port}/audiofork")
        await leg.connect()
        running = asyncio.create_task(leg.run())
        await asyncio.wait_for(released.wait(), 5)
        await asyncio.sleep(0.2)
        frames = [bytes([i, 0]) * 160 for i in range(1, 11)]

        def clock_thread() -> None:
            for frame in frames:
                link.deliver_audio(frame)
            link.deliver_end()

        await asyncio.to_thread(clock_thread)
        ended_by = await asyncio.wait_for(running, 5)

    assert ended_by == "caller"
    assert seen["subprotocol"] == "audio.drachtio.org"
    meta = seen["metadata"]
    assert isinstance(meta, dict) and meta["caller"] == "+79161234567" and meta["call_id"] == "abc@host"
    assert meta["sample_rate"] == 8000 and meta["channels"] == 1
    assert seen["binary"] == [*frames, b""]
    # killAudio removed the 1 s prompt; only the 80-sample playAudio is left to play
    assert link.playout.pull(FRAME_BYTES) == b"\x22\x00" * 80 + b"\x00" * 160


async def test_fork_leg_agent_disconnect_and_unreachable_agent() -> None:
    async def agent(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(json.dumps({"type": "disconnect"}))
        await asyncio.sleep(5)

    loop = asyncio.get_running_loop()
    link = SipCallLink(key=2, call_id="x", from_uri="sip:1@h", to_uri="sip:agent@h", loop=loop,
                       playout=PlayoutBuffer(1000))
    async with serve(agent, "127.0.0.1", 0, subprotocols=["audio.drachtio.org"]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        leg = AudioForkLeg(link, f"ws://127.0.0.1:{port}/audiofork")
        await leg.connect()
        assert await asyncio.wait_for(leg.run(), 5) == "agent"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with pytest.raises(AudioForkUnavailableError, match="cannot open"):
        await AudioForkLeg(link, f"ws://127.0.0.1:{dead}/audiofork", connect_timeout_s=2).connect()


# --- CLI error paths -----------------------------------------------------------------------------
def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salesagent.transport.sip", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


def test_cli_bad_setting_is_one_line_and_exit_2() -> None:
    proc = _cli("run", "--audiofork-url", "http://127.0.0.1/audiofork")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "salesagent sip: bad setting audiofork_url: Value error, audiofork_url must start with ws:// or wss://, "
        "got 'http://127.0.0.1/audiofork'"]


@pytest.mark.slow
def test_cli_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        proc = _cli("run", "--host", "127.0.0.1", "--port", str(port), SALESAGENT_SIP_PJ_LOG_LEVEL="0")
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("salesagent sip: SIP endpoint failed to start:") and "already in use" in last
