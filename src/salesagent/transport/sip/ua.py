"""The SIP user agent: pjsua2 on one dedicated thread, G.711 only, a null sound device.

pjsua2 is not thread-safe towards arbitrary Python threads and its objects must be created and
destroyed on registered pjlib threads. So one thread owns the library: it creates the endpoint
(``libCreate`` registers it), polls SIP events (``libHandleEvents``, ``UAConfig.threadCnt = 0``)
and runs commands that the asyncio side submits (answer, hang up, stop). Callbacks from
pjmedia's conference clock (``AudioMediaPort.onFrameRequested/onFrameReceived``) arrive on the
clock's own pjlib thread and touch only the :class:`SipCallLink` hand-offs.

There is no sound card: ``setNullDev()`` gives the conference bridge a software clock, and each
call is connected to a custom :class:`AudioMediaPort` whose frames are the WebSocket's audio.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from salesagent.transport.sip.config import SipSettings
from salesagent.transport.sip.link import FRAME_BYTES, FRAME_MS, SAMPLE_RATE, SipCallLink, caller_from_uri
from salesagent.transport.sip.playout import PlayoutBuffer

log = logging.getLogger(__name__)


class SipUnavailableError(RuntimeError):
    """pjsua2 is not installed or the SIP endpoint could not start (port taken, bad address)."""


try:
    import pjsua2 as pj
except ImportError:  # pragma: no cover - depends on the install
    pj = None


def require_pjsua2() -> Any:
    if pj is None:
        raise SipUnavailableError(
            "pjsua2 is not installed: pip install 'salesagent[sip]' (or bash scripts/setup.d/60-sip.sh)"
        )
    return pj


REAP_DELAY_S = 2.0

_PJ_LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}


if pj is not None:

    class _PjLogWriter(pj.LogWriter):
        """pjsip's own log lines into Python logging (so they come out as JSON like the rest)."""

        def write(self, entry: Any) -> None:
            log.log(_PJ_LEVELS.get(entry.level, logging.DEBUG), entry.msg.rstrip(),
                    extra={"context": {"pj_level": entry.level}})

    def _call_id(port: Any) -> str | None:
        """The port's call id even when a callback lands while the port is being freed."""
        return getattr(getattr(port, "link", None), "call_id", None)

    class _CallAudioPort(pj.AudioMediaPort):
        """The call's audio as frames: caller audio out to the link, agent audio in from playout."""

        def __init__(self, link: SipCallLink) -> None:
            super().__init__()
            self.link = link
            self.frames_in = 0
            self.frames_out = 0

        def onFrameReceived(self, frame: Any) -> None:
            try:
                if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size:
                    self.frames_in += 1
                    self.link.deliver_audio(bytes(frame.buf))
            except Exception:  # an exception must not cross into C++ on the clock thread
                log.exception("caller frame lost", extra={"context": {"call_id": _call_id(self)}})

        def onFrameRequested(self, frame: Any) -> None:
            try:
                data = self.link.playout.pull(FRAME_BYTES)
                frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
                frame.buf = pj.ByteVector(data)
                frame.size = len(data)
                self.frames_out += 1
            except Exception:
                log.exception("agent frame lost", extra={"context": {"call_id": _call_id(self)}})

    class _SipCall(pj.Call):
        def __init__(self, ua: SipUserAgent, account: pj.Account, call_id: int) -> None:
            super().__init__(account, call_id)
            self.ua = ua
            self.link: SipCallLink | None = None
            self.port: _CallAudioPort | None = None
            self.answered = False

        def onCallState(self, prm: Any) -> None:
            info = self.getInfo()
            if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self.ua._on_disconnected(self, info)

        def onCallMediaState(self, prm: Any) -> None:
            info = self.getInfo()
            for index, media in enumerate(info.media):
                if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                    self.ua._connect_media(self, self.getAudioMedia(index))

    class _Account(pj.Account):
        def __init__(self, ua: SipUserAgent) -> None:
            super().__init__()
            self.ua = ua

        def onIncomingCall(self, prm: Any) -> None:
            self.ua._on_incoming(self, prm.callId)


class SipUserAgent:
    """Owns pjsua2. Thread-safe entry points: :meth:`start`, :meth:`answer`, :meth:`hangup`, :meth:`stop`.

    ``on_call`` is invoked on the asyncio loop with each new :class:`SipCallLink` (not yet answered).
    """

    def __init__(
        self, settings: SipSettings, loop: asyncio.AbstractEventLoop, on_call: Callable[[SipCallLink], None]
    ) -> None:
        require_pjsua2()
        self.settings = settings
        self.loop = loop
        self.on_call = on_call
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pjsip", daemon=True)
        self._calls: dict[int, _SipCall] = {}
        self._reap: list[tuple[float, _SipCall]] = []  # (ended at, call): freed after REAP_DELAY_S
        self._keys = itertools.count(1)
        self.bound_port: int | None = None

    # --- any thread -----------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> None:
        """Start the pjsip thread; raises :class:`SipUnavailableError` when the endpoint cannot start."""
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise SipUnavailableError(f"pjsip did not start within {timeout_s} s")
        if self._error is not None:
            raise SipUnavailableError(f"SIP endpoint failed to start: {_pj_error(self._error)}") from None

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def answer(self, key: int, code: int = 200) -> None:
        self._commands.put(lambda: self._answer(key, code))

    def hangup(self, key: int, code: int = 0) -> None:
        self._commands.put(lambda: self._hangup(key, code))

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    # --- pjsip thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._init()
        except BaseException as exc:  # reported to start(); the endpoint is torn down below
            self._error = exc
            self._ready.set()
            self._destroy()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                self._ep.libHandleEvents(10)
                self._drain_commands()
                self._reap_ended_calls()
        except Exception:
            log.exception("pjsip thread failed")
        finally:
            self._shutdown()

    def _init(self) -> None:
        s = self.settings
        self._ep = pj.Endpoint()
        self._ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0  # SIP events are polled here, so every SIP callback runs on this thread
        cfg.uaConfig.mainThreadOnly = False
        cfg.uaConfig.maxCalls = s.max_calls + 4  # room to answer "busy" to the extra ones
        cfg.uaConfig.userAgent = "salesagent-sip"
        self._log_writer = _PjLogWriter()
        cfg.logConfig.writer = self._log_writer
        cfg.logConfig.level = s.pj_log_level
        cfg.logConfig.consoleLevel = s.pj_log_level
        cfg.logConfig.decor = 0
        med = cfg.medConfig
        med.clockRate = SAMPLE_RATE
        med.sndClockRate = SAMPLE_RATE
        med.channelCount = 1
        med.audioFramePtime = FRAME_MS
        med.ptime = FRAME_MS
        med.noVad = True  # a silence-suppressed stream would starve the agent's VAD of its own silence
        med.ecTailLen = 0  # no loudspeaker, so no echo to cancel
        self._ep.libInit(cfg)

        tcfg = pj.TransportConfig()
        tcfg.port = s.port
        if s.host not in ("0.0.0.0", ""):
            tcfg.boundAddress = s.host
        if s.advertised_address:
            tcfg.publicAddress = s.advertised_address
        self._ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        self._ep.libStart()
        self._ep.audDevManager().setNullDev()
        self._set_codecs()

        acfg = pj.AccountConfig()
        host = s.advertised_address or s.host
        acfg.idUri = f"sip:{s.user}@{host}:{s.port}"
        mtp = acfg.mediaConfig.transportConfig
        mtp.port = s.rtp_port
        mtp.portRange = s.rtp_port_range
        if s.host not in ("0.0.0.0", ""):
            mtp.boundAddress = s.host
        if s.advertised_address:
            mtp.publicAddress = s.advertised_address
        self._account = _Account(self)
        self._account.create(acfg, True)
        self.bound_port = s.port
        log.info("SIP edge listening", extra={"context": {
            "host": s.host, "port": s.port, "uri": acfg.idUri, "codecs": list(s.codecs),
            "audiofork_url": s.audiofork_url, "max_calls": s.max_calls}})

    def _set_codecs(self) -> None:
        """G.711 only, in the configured order: the fork is 8 kHz L16, so anything else is a waste."""
        wanted = {f"{name}/8000": 255 - i for i, name in enumerate(self.settings.codecs)}
        for codec in self._ep.codecEnum2():
            name = "/".join(codec.codecId.split("/")[:2])
            self._ep.codecSetPriority(codec.codecId, wanted.get(name, 0))

    def _reap_ended_calls(self) -> None:
        """Free ended calls here, on the thread that owns the library, but only once the media
        clock has let go of their port: freeing a port the conference still clocks lands a frame
        callback in a half-freed Python object (AttributeError, then a segfault)."""
        horizon = time.monotonic() - REAP_DELAY_S
        while self._reap and self._reap[0][0] <= horizon:
            self._reap.pop(0)

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command()
            except Exception as exc:
                log.warning("SIP command failed", extra={"context": {"error": _pj_error(exc)}})

    def _on_incoming(self, account: Any, pj_call_id: int) -> None:
        call = _SipCall(self, account, pj_call_id)
        info = call.getInfo()
        key = next(self._keys)
        ctx = {"call_id": info.callIdString, "caller_id": caller_from_uri(info.remoteUri), "key": key}
        if len(self._calls) >= self.settings.max_calls:
            log.warning("busy: max_calls reached", extra={"context": {**ctx, "max_calls": self.settings.max_calls}})
            prm = pj.CallOpParam()
            prm.statusCode = pj.PJSIP_SC_BUSY_HERE
            call.hangup(prm)
            self._reap.append((time.monotonic(), call))
            return
        max_bytes = int(self.settings.max_playout_s * SAMPLE_RATE * 2)
        link = SipCallLink(key=key, call_id=info.callIdString, from_uri=info.remoteUri, to_uri=info.localUri,
                           loop=self.loop, playout=PlayoutBuffer(max_bytes))
        call.link = link
        self._calls[key] = call
        prm = pj.CallOpParam()
        prm.statusCode = pj.PJSIP_SC_RINGING
        call.answer(prm)
        log.info("incoming SIP call", extra={"context": ctx})
        self.loop.call_soon_threadsafe(self.on_call, link)

    def _answer(self, key: int, code: int) -> None:
        call = self._calls.get(key)
        if call is None:
            return
        prm = pj.CallOpParam()
        prm.statusCode = code
        if code >= 300:
            call.hangup(prm)
        else:
            call.answer(prm)
            call.answered = True

    def _hangup(self, key: int, code: int) -> None:
        call = self._calls.get(key)
        if call is None:
            return
        prm = pj.CallOpParam()
        if code:
            prm.statusCode = code
        call.hangup(prm)

    def _connect_media(self, call: _SipCall, audio: Any) -> None:
        if call.link is None:
            return
        if call.port is None:
            fmt = pj.MediaFormatAudio()
            fmt.init(pj.PJMEDIA_FORMAT_PCM, SAMPLE_RATE, 1, FRAME_MS * 1000, 16)
            call.port = _CallAudioPort(call.link)
            call.port.createPort(f"fork-{call.link.key}", fmt)
        # (Re)connect both ways; a re-INVITE hands us a fresh stream.
        audio.startTransmit(call.port)
        call.port.startTransmit(audio)
        log.info("call media connected", extra={"context": {"call_id": call.link.call_id}})

    def _on_disconnected(self, call: _SipCall, info: Any) -> None:
        link = call.link
        if link is None:
            return
        log.info("SIP call ended", extra={"context": {
            "call_id": link.call_id, "status": info.lastStatusCode, "reason": info.lastReason,
            "frames_in": call.port.frames_in if call.port else 0,
            "frames_out": call.port.frames_out if call.port else 0,
            "dropped_in": link.dropped_inbound, "playout_dropped_bytes": link.playout.dropped_bytes,
            "playout_underruns": link.playout.underruns}})
        link.deliver_end()
        self._calls.pop(link.key, None)
        self._reap.append((time.monotonic(), call))

    def _shutdown(self) -> None:
        try:
            self._ep.hangupAllCalls()
            for _ in range(100):  # up to ~1 s for BYEs to go out and calls to end
                if not self._calls:
                    break
                self._ep.libHandleEvents(10)
        except Exception as exc:
            log.warning("hangup at shutdown failed", extra={"context": {"error": _pj_error(exc)}})
        for call in self._calls.values():
            if call.link is not None:
                call.link.deliver_end()
        # pjsua2 calls must die before libDestroy (their destructor asserts on a live library);
        # the calls were hung up above, so the media clock no longer feeds their ports.
        self._calls.clear()
        self._reap.clear()
        self._destroy()

    def _destroy(self) -> None:
        ep = getattr(self, "_ep", None)
        if ep is None:
            return
        self._account = None
        try:
            ep.libDestroy()
        except Exception as exc:
            log.warning("pjsip shutdown failed", extra={"context": {"error": _pj_error(exc)}})
        self._ep = None
        log.info("SIP edge stopped")


def _pj_error(exc: BaseException) -> str:
    """pjsua2 raises ``pj.Error`` whose text is in ``info()``; anything else prints as itself."""
    info = getattr(exc, "info", None)
    if callable(info):
        try:
            return str(info())
        except Exception:  # pragma: no cover
            pass
    return repr(exc)
