"""The voice pipeline end to end: a phone line into the real agent, nothing mocked.

Each scenario serves :func:`create_voice_app` (real Whisper base, real festival, the dialog, the
outbox) with uvicorn on a free 127.0.0.1 port and talks to ``/audiofork`` the way FreeSWITCH
mod_audio_fork does: 8 kHz L16 frames every 20 ms on an absolute clock (silence when the caller is
quiet), caller speech made by festival + sox in a voice that is not the agent's. Scenarios run once
per module (``asyncio.run`` in a module fixture) and several tests read what one call produced:

* barge-in: the caller talks over the greeting -> killAudio and no more agent frames within
  200 ms of speech start; the cut greeting is recorded as only partly heard;
* backchannel: "угу" over the greeting -> the agent resumes, the dialog never sees it;
* two calls at once on one server: a cooperative caller moves the dialog on while others send an
  odd-length frame, a junk text frame, or drop TCP; every broken call keeps its session and its
  lead (abandoned); /metrics and the per-turn latency breakdown are read from this run;
* a caller who never speaks: "Вы меня слышите?", a goodbye, the agent hangs up; abandoned lead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from salesagent.demo.runner import AgentServer, CallHub
from salesagent.dialog.slots import CallStatus
from salesagent.notify import LeadState
from salesagent.pipeline.latency import STAGES
from salesagent.services.app import AppParts, VoiceStack, create_voice_app
from salesagent.transport.audiofork_client import AudioForkClient, Received
from salesagent.transport.config import TelephonySettings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

RATE = 8000
FRAME_BYTES = RATE // 50 * 2  # 20 ms of 8 kHz PCM16, as mod_audio_fork sends
FRAME_S = 0.02
VOICED_RMS = 300.0  # int16 RMS of a 20 ms frame above which it carries speech (about -40 dBFS)
CALLER_ID = "+79161234567"
ANSWER = "Здравствуйте. Я хочу записаться на обследование."  # what anyone answers the greeting
BACKCHANNEL = "Угу."
BARGE_IN_BUDGET_S = 0.200  # the spec: the agent stops within 200 ms of the caller's speech start


# == the agent ======================================================================================
@dataclass
class Agent:
    server: AgentServer
    hub: CallHub
    http: httpx.AsyncClient
    stack: VoiceStack
    app: Any

    @property
    def fork_url(self) -> str:
        return self.server.url("/audiofork")

    async def session(self, call_id: str) -> dict[str, Any] | None:
        """``GET /session/{id}`` of the dialog API mounted in the same app (None: 404)."""
        response = await self.http.get(f"/session/{call_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    async def wait_session(self, call_id: str, check: Callable[[dict[str, Any]], bool],
                           timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            last = await self.session(call_id)
            if last is not None and check(last):
                return last
            await asyncio.sleep(0.1)
        raise AssertionError(f"session {call_id} never matched; last seen in {last and last.get('state')}")

    async def asr_idle(self, timeout: float = 30.0) -> None:
        """No decode queued or running on the shared Whisper scheduler."""
        scheduler = self.app.state.voice.scheduler
        deadline = time.monotonic() + timeout
        while scheduler.queued or scheduler.running:
            if time.monotonic() > deadline:
                raise AssertionError("ASR still busy")
            await asyncio.sleep(0.05)

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """``GET /metrics`` parsed into {(sample name, sorted labels): value}."""
        response = await self.http.get("/metrics")
        response.raise_for_status()
        out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return out


@contextlib.asynccontextmanager
async def serve_agent(stack: VoiceStack, asr: dict[str, Any] | None = None, **voice: Any) -> AsyncIterator[Agent]:
    """The voice app (telephony + dialog API + /metrics) on a free port; ``asr`` and ``voice``
    override :class:`AsrSettings` / :class:`VoiceSettings` fields for this server only (the models
    stay shared)."""
    if voice:
        stack = dataclasses.replace(stack, voice=stack.voice.model_copy(update=voice))
    if asr:
        stack = dataclasses.replace(stack, asr=stack.asr.model_copy(update=asr))
    hub = CallHub()
    app = create_voice_app(
        stack,
        telephony=TelephonySettings(enable_audiosocket=False),
        parts=AppParts(asr_gateway=False, tts_gateway=False, lead_worker=False),
        observer=hub,
    )
    async with AgentServer(app) as server, httpx.AsyncClient(base_url=server.url("", "http"), timeout=30) as http:
        yield Agent(server, hub, http, stack, app)


# == the line =======================================================================================
@dataclass
class Sent:
    """One inbound frame as the client sent it."""

    index: int
    t: float  # time.monotonic() just before the frame went to the socket
    voiced: bool


@dataclass
class Utterance:
    """Where a spoken line went on the stream."""

    frames: list[Sent] = field(default_factory=list)

    @property
    def first_voiced(self) -> Sent:
        return next(f for f in self.frames if f.voiced)

    @property
    def last_voiced(self) -> Sent:
        return next(f for f in reversed(self.frames) if f.voiced)

    @property
    def last(self) -> Sent:
        return self.frames[-1]


def voiced_flags(pcm: bytes) -> list[bool]:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    step = FRAME_BYTES // 2
    return [float(np.sqrt(np.mean(samples[o : o + step] ** 2))) > VOICED_RMS for o in range(0, samples.size, step)]


class Line:
    """One call leg as FreeSWITCH forks it: 20 ms frames on an absolute clock for the whole call,
    the caller's speech when queued, silence otherwise; every frame's send time is kept."""

    def __init__(self, agent: Agent, call_id: str, caller: str = CALLER_ID) -> None:
        self.call_id = call_id
        self.fork = AudioForkClient(agent.fork_url, sample_rate=RATE,
                                    metadata={"uuid": call_id, "caller": caller, "sample_rate": RATE, "channels": 1})
        self.sent: list[Sent] = []
        self._out: list[tuple[bytes | str, bool, Utterance | None]] = []
        self._drained = asyncio.Event()
        self._drained.set()
        self._pump: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Line:
        await self.fork.__aenter__()
        self._pump = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_sending()
        if not self.closed:
            with contextlib.suppress(Exception):
                await self.fork.stop(timeout=10)
        await self.fork.__aexit__(*exc)

    @property
    def closed(self) -> bool:
        return self.fork._reader is None or self.fork._reader.done()

    async def _run(self) -> None:
        silence = b"\x00" * FRAME_BYTES
        start = time.monotonic()
        n = 0
        with contextlib.suppress(Exception):  # the agent hung up: the socket is closed
            while True:
                delay = start + n * FRAME_S - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                frame, voiced, utt = self._out.pop(0) if self._out else (silence, False, None)
                sent = Sent(n, time.monotonic(), voiced)
                await self.fork.send_raw(frame)
                self.sent.append(sent)
                if utt is not None:
                    utt.frames.append(sent)
                if not self._out:
                    self._drained.set()
                n += 1
        self._drained.set()

    async def stop_sending(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None

    async def say(self, pcm: bytes) -> Utterance:
        """Speak ``pcm`` in real time; returns once its last frame was sent."""
        utt = Utterance()
        flags = voiced_flags(pcm)
        self._drained.clear()
        for i, off in enumerate(range(0, len(pcm), FRAME_BYTES)):
            self._out.append((pcm[off : off + FRAME_BYTES].ljust(FRAME_BYTES, b"\x00"), flags[i], utt))
        await self._drained.wait()
        return utt

    def inject(self, frame: bytes | str) -> None:
        """Put a raw frame (malformed binary, a text frame) in the stream, in its turn."""
        self._out.append((frame, False, None))

    async def hangup(self) -> None:
        """The caller hangs up: the zero-length frame, then the server closes."""
        await self.stop_sending()
        await self.fork.stop(timeout=10)

    async def abort(self) -> None:
        """The media server dies: TCP dropped, no close frame, no zero-length frame."""
        await self.stop_sending()
        await self.fork.abort()

    # -- what the agent sent -----------------------------------------------------------------------
    def received(self, kind: str, after: float = 0.0, before: float = float("inf")) -> list[Received]:
        return [r for r in self.fork.received if r.kind == kind and after < r.t <= before]

    async def wait_audio(self, after: float = 0.0, timeout: float = 30.0) -> Received:
        """The first agent audio frame that arrived after ``after`` (monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed:
            got = self.received("audio", after)
            if got:
                return got[0]
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.call_id}: no agent audio after {after:.3f} within {timeout} s")

    async def wait_quiet(self, pause_s: float, timeout: float = 60.0) -> float:
        """Agent audio came and then nothing for ``pause_s``; returns the last frame's arrival."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received("audio")
            if got and time.monotonic() - got[-1].t >= pause_s:
                return got[-1].t
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.call_id}: the agent did not go quiet within {timeout} s")


def audio_seconds(items: list[Received]) -> float:
    return sum(len(r.pcm) for r in items) / 2 / RATE


def new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}"


async def until(t: float) -> None:
    await asyncio.sleep(max(0.0, t - time.monotonic()))


async def speech_seconds(stack: VoiceStack, text: str) -> float:
    """How long the agent's own TTS says ``text`` (cached sentences, so cheap)."""
    pcm = await asyncio.to_thread(stack.tts.synthesize, text, RATE)
    return len(pcm) / 2 / RATE


def agent_entries(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in report["transcript"] if e["role"] == "agent"]


@dataclass
class CooperativeCall:
    """A caller who waits for the greeting to end, answers it, and hears the agent's next question."""

    line: Line
    answer: Utterance | None = None
    reply_audio: Received | None = None
    session: dict[str, Any] | None = None


async def cooperative(agent: Agent, line: Line, answer_pcm: bytes) -> CooperativeCall:
    out = CooperativeCall(line)
    await line.wait_audio(timeout=60)
    await line.wait_quiet(0.8)  # a polite caller lets the greeting finish
    out.answer = await line.say(answer_pcm)
    out.reply_audio = await line.wait_audio(after=out.answer.last.t, timeout=60)
    out.session = await agent.wait_session(line.call_id, lambda s: s["state"] != "GREETING", 30)
    await asyncio.sleep(0.6)  # hear a bit of the question, then hang up
    await line.hangup()
    return out


# == scenario 1: barge-in over the greeting =========================================================
@dataclass
class BargeInRun:
    line: Line
    speech: Utterance
    reply_audio: Received
    session: dict[str, Any]
    ended: dict[str, Any]
    greeting_s: float
    events: list[tuple[float, str, dict[str, Any]]]


@pytest.fixture(scope="module")
def barge_in_run(voice_stack: VoiceStack, caller_voice) -> BargeInRun:
    answer = caller_voice(ANSWER)  # rendered before the call: festival blocks

    async def scenario() -> BargeInRun:
        call_id = new_id("barge")
        # The default resampler (SALESAGENT_ASR_RESAMPLE_QUALITY=QQ, 0.25 ms held back). soxr LQ hands
        # 8 -> 16 kHz audio to the VAD in 60 ms bursts, which put about one barge-in in twenty past the
        # 200 ms budget (up to 240 ms); with QQ the worst measured is 180 ms.
        async with serve_agent(voice_stack) as agent:
            async with Line(agent, call_id) as line:
                first = await line.wait_audio(timeout=60)
                await until(first.t + 1.5)  # well into the greeting (its 2nd sentence)
                speech = await line.say(answer)
                reply = await line.wait_audio(after=speech.last.t, timeout=60)
                session = await agent.wait_session(call_id, lambda s: s["state"] != "GREETING", 30)
                await asyncio.sleep(0.5)
                await line.hangup()
            ended = await agent.hub.wait_ended(call_id, 30)
            greeting = agent_entries(ended["report"])[0]["text"]
            return BargeInRun(line, speech, reply, session, ended, await speech_seconds(voice_stack, greeting),
                              agent.hub.events[call_id])

    return asyncio.run(scenario())


def test_barge_in_stops_agent_audio_within_200ms_of_speech_start(barge_in_run: BargeInRun) -> None:
    run, line = barge_in_run, barge_in_run.line
    speech_start = run.speech.first_voiced
    before = line.received("audio", before=speech_start.t)
    # The agent was mid-sentence when the caller started: its frames were still flowing.
    assert audio_seconds(before) > 1.0
    assert speech_start.t - before[-1].t < 0.1, "the agent was not talking when the caller started"

    kills = line.received("killAudio")
    assert kills, "no killAudio: the agent talked over the caller"
    kill = kills[0]
    assert kill.t > speech_start.t, "killAudio before the caller said anything"
    # Two clocks, each blurred by a different kind of load on this shared loop:
    # * wall: first voiced frame sent -> killAudio received, on the client (a stall stretches it);
    # * stream: caller audio sent, from the first voiced frame to the last frame sent before the
    #   agent's barge-in decision (the observer's event, same clock), in 20 ms frames (a stall only
    #   makes the line catch up in a burst, which can add frames but never removes any).
    wall_s = kill.t - speech_start.t
    decided = next(t for t, kind, _ in run.events if kind == "barge_in")
    trigger = max(f.index for f in line.sent if f.t < decided)
    stream_s = (trigger - speech_start.index) * FRAME_S
    print(f"barge-in: stream {stream_s * 1000:.0f} ms, wall {wall_s * 1000:.0f} ms "
          f"(killAudio {(kill.t - decided) * 1000:.1f} ms after the decision)")
    assert speech_start.t < decided <= kill.t
    assert min(wall_s, stream_s) <= BARGE_IN_BUDGET_S, (
        f"agent stopped {wall_s * 1000:.0f} ms (wall) / {stream_s * 1000:.0f} ms (stream) after speech start")
    assert wall_s <= BARGE_IN_BUDGET_S + 0.3, f"killAudio reached the caller {wall_s * 1000:.0f} ms after speech start"

    # Binary agent frames stop with the killAudio: none while the caller goes on talking.
    assert line.received("audio", after=kill.t, before=run.speech.last.t) == []
    # ... and the agent answers once the caller has finished.
    assert run.reply_audio.t > run.speech.last_voiced.t


def test_barge_in_unplayed_text_is_not_counted_as_said(barge_in_run: BargeInRun) -> None:
    run, line = barge_in_run, barge_in_run.line
    report = run.ended["report"]
    assert report["barge_ins"] >= 1
    greeting, *later = agent_entries(report)
    assert greeting["state"] == "GREETING"
    assert greeting["interrupted"] is True
    # What the caller heard, by the client's own count: the agent audio received before killAudio.
    kill = line.received("killAudio")[0]
    heard_s = audio_seconds(line.received("audio", before=kill.t))
    assert 0 < heard_s < run.greeting_s - 0.5  # it really was cut (the test's premise)
    print(f"greeting heard: report {greeting['heard_fraction']}, client {heard_s / run.greeting_s:.3f}")
    assert greeting["heard_fraction"] == pytest.approx(heard_s / run.greeting_s, abs=0.05)
    assert greeting["heard_fraction"] < 0.9
    # The report keeps only the words the caller could have heard, as a prefix of the line.
    heard_text = greeting["heard_text"]
    assert heard_text is not None and len(heard_text) < len(greeting["text"])
    assert greeting["text"].startswith(heard_text.rstrip("…").strip())
    # The caller's words became a real turn and the dialog moved on.
    caller = [e for e in report["transcript"] if e["role"] == "caller"]
    assert caller and caller[0]["kind"] == "turn" and caller[0]["text"].strip()
    assert run.session["state"] != "GREETING"
    assert [h["role"] for h in run.session["history"]][:3] == ["agent", "caller", "agent"]
    assert later and later[0]["state"] == run.session["history"][2]["state"]
    assert report["state_path"][0] == "GREETING" and len(report["state_path"]) >= 2


# == scenario 2: a backchannel over the greeting ====================================================
@dataclass
class BackchannelRun:
    line: Line
    ugu: Utterance
    session: dict[str, Any]
    ended: dict[str, Any]
    greeting_s: float
    events: list[tuple[float, str, dict[str, Any]]]


@pytest.fixture(scope="module")
def backchannel_run(voice_stack: VoiceStack, caller_voice) -> BackchannelRun:
    ugu_pcm = caller_voice(BACKCHANNEL)

    async def scenario() -> BackchannelRun:
        call_id = new_id("ugu")
        async with serve_agent(voice_stack) as agent:
            async with Line(agent, call_id) as line:
                first = await line.wait_audio(timeout=60)
                await until(first.t + 1.5)
                ugu = await line.say(ugu_pcm)
                await line.wait_quiet(1.5, timeout=40)  # the greeting has been said to its end
                await agent.asr_idle()  # the "угу" transcript, if any, has been judged
                await asyncio.sleep(0.3)
                session = await agent.session(call_id)
                assert session is not None
                await line.hangup()
            ended = await agent.hub.wait_ended(call_id, 30)
            greeting = agent_entries(ended["report"])[0]["text"]
            return BackchannelRun(line, ugu, session, ended, await speech_seconds(voice_stack, greeting),
                                  agent.hub.events[call_id])

    return asyncio.run(scenario())


def test_backchannel_does_not_take_the_turn_and_the_agent_goes_on(backchannel_run: BackchannelRun) -> None:
    run, line = backchannel_run, backchannel_run.line
    report = run.ended["report"]
    # The short "угу" was heard over the agent and judged a backchannel...
    assert report["backchannels"] >= 1
    assert any(kind == "backchannel" for _, kind, _ in run.events)
    # ... so the dialog never saw it: still the greeting, the agent's one line and nothing from the caller.
    assert run.session["state"] == "GREETING"
    assert [h["role"] for h in run.session["history"]] == ["agent"]
    assert all(e["kind"] == "backchannel" for e in report["transcript"] if e["role"] == "caller")
    assert not any(kind == "caller" for _, kind, _ in run.events)  # no turn reached the dialog

    # The agent did not stop for good: if the VAD cut it, the audio came back soon and went on.
    kills = line.received("killAudio")
    after_ugu = line.received("audio", after=run.ugu.first_voiced.t)
    assert audio_seconds(after_ugu) > 1.0
    if kills:
        resumed = line.received("audio", after=kills[0].t)
        assert resumed, "killAudio and then silence: the backchannel stopped the agent"
        assert resumed[0].t - kills[0].t < 3.5  # the short-speech rule, not the 4 s no-words fallback
        assert audio_seconds(resumed) > 1.0
    # The whole greeting reached the caller (the cut sentence is said again from its start).
    assert audio_seconds(line.received("audio")) >= run.greeting_s - 0.1
    greeting = agent_entries(report)[0]
    assert greeting["interrupted"] is False and greeting["heard_fraction"] >= 0.98


# == scenario 3: two calls at once, the others misbehave ============================================
@dataclass
class TwoCallsRun:
    good: CooperativeCall
    odd: Line
    junk: Line
    dropped: Line
    ended: dict[str, dict[str, Any]]
    sessions_after: dict[str, dict[str, Any] | None]
    metrics_before: dict
    metrics_during: dict
    metrics_after: dict


@pytest.fixture(scope="module")
def two_calls_run(voice_stack: VoiceStack, caller_voice) -> TwoCallsRun:
    answer = caller_voice(ANSWER)

    async def scenario() -> TwoCallsRun:
        ids = {k: new_id(k) for k in ("good", "odd", "junk", "dropped")}
        async with serve_agent(voice_stack) as agent:
            before = await agent.metrics()
            async with (Line(agent, ids["good"]) as good, Line(agent, ids["odd"]) as odd,
                        Line(agent, ids["junk"]) as junk, Line(agent, ids["dropped"]) as dropped):
                for line in (good, odd, junk, dropped):
                    await line.wait_audio(timeout=60)  # everyone hears a greeting
                during = await agent.metrics()
                coop = asyncio.create_task(cooperative(agent, good, answer))
                odd.inject(b"\x00" * (FRAME_BYTES - 1))  # an odd byte count: not whole PCM16 samples
                junk.inject("{this is not json")
                await asyncio.sleep(0.5)
                await dropped.abort()
                for line in (odd, junk):
                    await asyncio.wait_for(line.fork.wait_closed(10), 15)
                    await line.stop_sending()
                good_call = await coop
            ended = {k: await agent.hub.wait_ended(v, 30) for k, v in ids.items()}
            sessions = {k: await agent.session(v) for k, v in ids.items()}
            after = await agent.metrics()
            return TwoCallsRun(good_call, odd, junk, dropped, ended, sessions, before, during, after)

    return asyncio.run(scenario())


def test_misbehaving_calls_keep_session_and_lead_while_the_other_call_goes_on(
    two_calls_run: TwoCallsRun, voice_stack: VoiceStack
) -> None:
    run = two_calls_run
    # The cooperative call moved past the greeting although its neighbours broke.
    good = run.good
    assert good.session is not None and good.session["state"] != "GREETING"
    assert [h["role"] for h in good.session["history"]][:3] == ["agent", "caller", "agent"]
    assert good.reply_audio is not None and good.answer is not None
    assert good.reply_audio.t > good.answer.last_voiced.t
    assert run.ended["good"]["report"]["state_path"][:1] == ["GREETING"]
    assert len(run.ended["good"]["report"]["state_path"]) >= 2

    # Malformed frames end only their own call, with a protocol error close.
    assert run.odd.fork.close_code == 1007 and "multiple of 2" in (run.odd.fork.close_reason or "")
    assert run.junk.fork.close_code == 1007
    assert run.ended["odd"]["reason"] == "error" and run.ended["junk"]["reason"] == "error"
    assert run.ended["dropped"]["reason"] == "disconnect"

    outbox = voice_stack.dialog.leads.outbox
    for name in ("odd", "junk", "dropped"):
        call_id = getattr(run, name).call_id
        # The session is kept (the store and the API both have it), closed as abandoned.
        stored = voice_stack.dialog.store.get(call_id)
        assert stored is not None and stored.done and stored.slots.status is CallStatus.ABANDONED, name
        assert run.sessions_after[name] is not None and run.sessions_after[name]["done"] is True
        # ... and its lead is in the outbox, waiting for delivery.
        entry = outbox.get(call_id)
        assert entry is not None, f"{name}: no lead"
        assert entry.lead.status is CallStatus.ABANDONED and entry.state is LeadState.PENDING
        assert run.ended[name]["status"] == "abandoned"
    # The cooperative caller hung up mid-dialog: also a kept, abandoned lead.
    entry = outbox.get(good.line.call_id)
    assert entry is not None and entry.lead.status is CallStatus.ABANDONED


def _value(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_show_active_calls_turn_latency_per_stage_and_errors(two_calls_run: TwoCallsRun) -> None:
    run = two_calls_run
    before, during, after = run.metrics_before, run.metrics_during, run.metrics_after
    active = "salesagent_voice_active_calls"
    assert (active, ()) in before and (active, ()) in after
    assert _value(during, active) == _value(before, active) + 4  # four calls in flight
    assert _value(after, active) == _value(before, active)  # all ended, none leaked

    # One measured turn (the cooperative call's) in the voice-to-voice histogram and in each stage.
    v2v = "salesagent_voice_turn_latency_seconds_count"
    assert _value(after, v2v) >= _value(before, v2v) + 1
    assert _value(after, "salesagent_voice_turn_latency_seconds_sum") > _value(
        before, "salesagent_voice_turn_latency_seconds_sum")
    for stage in STAGES:
        name = "salesagent_voice_stage_seconds_count"
        assert _value(after, name, stage=stage) >= _value(before, name, stage=stage) + 1, stage
    assert _value(after, "salesagent_voice_turns_total") >= _value(before, "salesagent_voice_turns_total") + 1

    # Error counters per component are exported (at their value: broken peers are not pipeline errors).
    for component in ("asr", "tts", "dialog", "record"):
        key = ("salesagent_voice_errors_total", (("component", component),))
        assert key in after, f"no errors counter for {component}"
        assert after[key] == before.get(key, 0.0), component
    # Every call ended up counted by outcome.
    calls = "salesagent_voice_calls_total"
    assert _value(after, calls, status="abandoned") == _value(before, calls, status="abandoned") + 4


def test_turn_latency_breakdown_is_positive_and_consistent(two_calls_run: TwoCallsRun, voice_stack) -> None:
    run = two_calls_run
    latency = run.ended["good"]["report"]["latency"]
    turns = [t for t in latency["turns"] if t["voice_to_voice_ms"] is not None]
    assert turns, "the cooperative turn was not measured"
    turn = turns[0]
    stages, total = turn["stages_ms"], turn["voice_to_voice_ms"]
    assert set(stages) == set(STAGES)
    for name in ("endpointing", "asr", "dialog", "tts_first_chunk"):
        assert stages[name] > 0, name
    assert stages["playout_start"] >= 0
    assert total > 0
    # The stages are consecutive pieces of voice-to-voice: they add up to it (rounding aside).
    assert sum(stages.values()) <= total + 1.0
    assert sum(stages.values()) == pytest.approx(total, abs=1.0)
    assert stages["asr"] >= 50  # a real Whisper decode, not a cache
    # Stamps are arrival times; when this busy 2-core box stalls the loop, the line's frames catch
    # up in a burst and the wait for silence collapses. On a line that kept its 20 ms pace:
    good = run.good
    assert good.answer is not None and good.reply_audio is not None
    window = [f for f in good.line.sent if good.answer.last_voiced.t - 0.1 <= f.t <= good.reply_audio.t]
    paced = max(b.t - a.t for a, b in itertools.pairwise(window)) < 0.06
    client_ms = (good.reply_audio.t - good.answer.last_voiced.t) * 1000
    print(f"turn latency: server {total:.0f} ms {stages}, client {client_ms:.0f} ms, paced line: {paced}")
    if paced:
        # endpointing is the VAD's min_silence wait (give or take a 32 ms window) ...
        assert stages["endpointing"] >= voice_stack.vad.min_silence_ms - 64
        # ... and the caller's side agrees: last voiced frame sent -> first frame of the reply received.
        assert client_ms == pytest.approx(total, abs=400)
    # The call summary is built from the same turns.
    assert latency["turns_measured"] == len(turns)
    assert latency["voice_to_voice_ms"]["max"] >= total
    assert set(latency["stages"]) == set(STAGES)


# == scenario 4: a caller who never speaks ==========================================================
@dataclass
class SilentRun:
    silent: Line
    good: CooperativeCall
    ended: dict[str, Any]
    session: dict[str, Any] | None
    prompt_s: float


@pytest.fixture(scope="module")
def silent_run(voice_stack: VoiceStack, caller_voice) -> SilentRun:
    answer = caller_voice(ANSWER)
    prompt_s = 2.0

    async def scenario() -> SilentRun:
        silent_id, good_id = new_id("silent"), new_id("good")
        async with serve_agent(voice_stack, silence_prompt_s=prompt_s, silence_prompts=1) as agent:
            async with Line(agent, silent_id) as silent, Line(agent, good_id) as good:
                coop = asyncio.create_task(cooperative(agent, good, answer))
                await asyncio.wait_for(silent.fork.wait_closed(60), 65)  # the agent hangs up on it
                good_call = await coop
            ended = await agent.hub.wait_ended(silent_id, 30)
            await agent.hub.wait_ended(good_id, 30)
            session = await agent.session(silent_id)
            return SilentRun(silent, good_call, ended, session, prompt_s)

    return asyncio.run(scenario())


def test_silent_caller_is_prompted_then_told_goodbye_and_hung_up(silent_run: SilentRun, voice_stack) -> None:
    run = silent_run
    report = run.ended["report"]
    agent = agent_entries(report)
    assert [e["kind"] for e in agent] == ["turn", "silence_prompt", "goodbye"]
    assert agent[1]["text"] == voice_stack.voice.silence_prompt_text
    assert agent[2]["text"] == voice_stack.voice.silence_goodbye_text
    assert report["silence_prompts"] == 1
    assert not [e for e in report["transcript"] if e["role"] == "caller"]
    # Each step waited for the configured silence after the agent's last word.
    greeting, prompt, goodbye = agent
    assert prompt["start"] - greeting["end"] >= run.prompt_s - 0.05
    assert goodbye["start"] - prompt["end"] >= run.prompt_s - 0.05
    # The goodbye was played to its end, then the agent hung up (mod_audio_fork "disconnect", close 1000).
    assert goodbye["heard_fraction"] >= 0.98 and not goodbye["interrupted"]
    disconnect = run.silent.received("disconnect")
    assert disconnect and run.silent.fork.close_code == 1000
    audio = run.silent.received("audio")
    assert audio and audio[-1].t < disconnect[0].t
    assert run.ended["reason"] == "agent" and run.ended["status"] == "abandoned"
    # Session kept, lead in the outbox as abandoned.
    assert run.session is not None and run.session["done"] is True
    assert run.session["slots"]["status"] == "abandoned"
    entry = voice_stack.dialog.leads.outbox.get(run.silent.call_id)
    assert entry is not None and entry.lead.status is CallStatus.ABANDONED
    # Meanwhile the other caller on the same server carried on.
    assert run.good.session is not None and run.good.session["state"] != "GREETING"
