"""The call core without a network: queueing, marks, clear accounting, end-of-call behaviour.

The sink here is the FrameSink protocol itself (what a bridge implements), recording what the
pump hands to the wire; the real wire protocols are covered by the bridge tests.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from salesagent.transport.call import Call, PlaybackItem, PlaybackState
from salesagent.transport.events import AudioIn, CallStarted, CallStopped, MarkPlayed
from salesagent.transport.pacing import OutboundPump
from salesagent.transport.server import HandlerSpecError, load_handler


class ListSink:
    echoes_marks = False

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.clears = 0

    async def send_audio(self, pcm: bytes, item: PlaybackItem) -> None:
        self.frames.append(pcm)

    async def send_clear(self) -> None:
        self.clears += 1

    async def send_mark(self, item: PlaybackItem) -> None:
        raise AssertionError("not called when echoes_marks is False")


def make_call(**kw) -> Call:
    return Call(CallStarted("c-1", 8000, "+79160000000"), transport="test", **kw)


async def test_marker_item_and_partial_frame_padding() -> None:
    call = make_call()
    sink = ListSink()
    pump = asyncio.create_task(OutboundPump(call, sink).run())
    try:
        call.enqueue(b"\x01\x00" * 200)  # 25 ms: one full frame and a padded one
        marker = call.enqueue(b"", mark="after")
        assert await asyncio.wait_for(marker.wait(), 2) is True
        assert [len(f) for f in sink.frames] == [320, 320]
        assert sink.frames[1][80:] == b"\x00" * 240
        events = [await call.recv() for _ in range(2)]
        assert events[1] == MarkPlayed("after")
    finally:
        pump.cancel()


async def test_end_of_call_cuts_pending_items_and_later_enqueue() -> None:
    call = make_call()
    item = call.enqueue(b"\x00\x00" * 8000, mark="never")
    call.push_audio(b"\x00\x00" * 160)
    call.push_stopped("disconnect")
    call.push_stopped("hangup")  # the first reason wins
    assert await item.wait() is False and item.state is PlaybackState.CLEARED and item.heard_s == 0
    late = call.enqueue(b"\x00\x00" * 160)
    assert late.state is PlaybackState.CLEARED
    events = [e async for e in call]
    assert [type(e) for e in events] == [CallStarted, AudioIn, CallStopped]
    assert events[-1] == CallStopped("disconnect")
    with pytest.raises(KeyError):
        await call.wait_mark("never")


async def test_slow_handler_loses_oldest_audio_not_control_events() -> None:
    call = make_call(max_inbound_frames=10)
    for i in range(25):
        call.push_audio(bytes([i, 0]) * 160)
    call.push_dtmf("5")
    events = [e async for e in _until_dtmf(call)]
    audio = [e for e in events if isinstance(e, AudioIn)]
    assert len(audio) == 10 and audio[0].pcm[:1] == bytes([15]) and call.dropped_audio_frames == 15
    assert audio[0].t == pytest.approx(15 * 0.02)  # positions keep counting the dropped audio


async def _until_dtmf(call: Call):
    while True:
        event = await call.recv()
        yield event
        if type(event).__name__ == "Dtmf":
            return


async def test_odd_agent_audio_is_rejected() -> None:
    call = make_call()
    with pytest.raises(ValueError, match="multiple of 2"):
        call.enqueue(b"\x00\x00\x00")


def test_load_handler_specs() -> None:
    assert type(load_handler("echo")).__name__ == "EchoHandler"
    for bad in ("nonsense", "os:path", "no.such.module:x"):
        with pytest.raises(HandlerSpecError):
            load_handler(bad)


def test_cli_bad_handler_exits_with_one_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "salesagent.transport", "--handler", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "handler 'nope'" in proc.stderr
