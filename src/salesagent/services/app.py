"""The all-in-one process behind ``salesagent serve``: the whole phone agent on one port.

One FastAPI app holds, by default:

* the telephony edge: ``WS /audiofork`` (FreeSWITCH mod_audio_fork), ``WS /twilio/media`` and the
  Asterisk AudioSocket TCP server, all running :class:`~salesagent.pipeline.VoiceAgent`;
* the dialog API (``POST /dialog``, ``GET/DELETE /session/{id}``, ``/health``, ``/ready``) at ``/``;
* the ASR gateway at ``/asr`` (``WS /asr/ws/transcribe``) and the TTS gateway at ``/tts``
  (``POST /tts/synthesize``), sharing the ONE Whisper model and the ONE synthesiser of the calls;
* the lead ``DeliveryWorker`` (outbox -> Google Sheets / local xlsx / webhook);
* ``GET /metrics`` (Prometheus).

Models load once, before the app is built (:meth:`VoiceStack.build`), so a missing model or a
missing festival fails at start with one line. Each gateway can still run alone
(``serve-asr``, ``serve-tts``, the dialog API) by switching the others off here or by their own
modules. The SIP edge and tests start the agent with :func:`create_voice_app` on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from salesagent.clinic.profile import ClinicProfile, load_profile
from salesagent.config import Settings, get_settings
from salesagent.dialog.answer_check import AnswerCheck
from salesagent.dialog.service import DialogService
from salesagent.pipeline.config import VoiceSettings
from salesagent.pipeline.metrics import register_tts_stats
from salesagent.pipeline.voice_agent import CallObserver, VoiceAgent, VoiceServices
from salesagent.security import protect
from salesagent.speech.asr.base import AsrEngine
from salesagent.speech.asr.prompt import QuestionPrompts, vocabulary_prompt
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.config import AsrSettings, VadSettings
from salesagent.transport.audiofork import audiofork_router
from salesagent.transport.audiosocket import AudioSocketServer
from salesagent.transport.config import TelephonySettings
from salesagent.transport.twilio import twilio_router

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppParts:
    """Which parts one process serves (all by default: the embedded single-process product)."""

    telephony: bool = True
    dialog_api: bool = True
    asr_gateway: bool = True
    tts_gateway: bool = True
    lead_worker: bool = True
    console: bool = True  # /console: the clinic's web console (salesagent.console)


@dataclass
class VoiceStack:
    """Everything a process shares across calls: the dialog, the models, the records, the settings."""

    settings: Settings
    profile: ClinicProfile
    dialog: DialogService
    engine: AsrEngine
    tts: Any  # speech.tts.SpeechSynthesizer
    voice: VoiceSettings
    asr: AsrSettings
    vad: VadSettings
    records: Any  # notify.CallRecordStore
    prompt: str | None
    owns_tts: bool = True
    prompts: Any = None  # speech.asr.prompt.QuestionPrompts: the prompt that follows each question
    answers: Any = None  # dialog.AnswerCheck: an answer already complete ends the turn sooner

    @classmethod
    def build(
        cls,
        settings: Settings | None = None,
        *,
        engine: AsrEngine | None = None,
        tts: Any = None,
        dialog: DialogService | None = None,
        voice: VoiceSettings | None = None,
        asr: AsrSettings | None = None,
        vad: VadSettings | None = None,
    ) -> VoiceStack:
        """Load what is not given; raises (AsrConfigError, TtsError, ProfileError, ...) at start."""
        from salesagent.notify import CallRecordStore
        from salesagent.services.factory import build_service

        settings = settings or get_settings()
        profile = load_profile(settings.profile_path)
        asr = asr or AsrSettings()
        if engine is None:
            from salesagent.speech.asr.remote import build_engine

            engine = build_engine(asr)  # faster-whisper here, or the ASR gateway (engine=remote)
        owns_tts = tts is None
        if tts is None:
            from salesagent.speech.tts import build_synthesizer
            from salesagent.speech.tts_config import TtsSettings

            tts = build_synthesizer(TtsSettings())
        prompt = vocabulary_prompt(profile, asr.stream_prompt_max_chars) if asr.use_profile_prompt else None
        prompts = (QuestionPrompts(profile, asr.prompt_max_chars, asr.stream_prompt_max_chars)
                   if asr.use_profile_prompt else None)
        return cls(
            settings=settings,
            profile=profile,
            dialog=dialog or build_service(settings, profile),
            engine=engine,
            tts=tts,
            voice=voice or VoiceSettings(),
            asr=asr,
            vad=vad or VadSettings(),
            records=CallRecordStore.from_settings(),
            prompt=prompt or None,
            owns_tts=owns_tts,
            prompts=prompts,
            answers=AnswerCheck(profile) if asr.answer_complete_silence_ms else None,
        )

    def services(self, observer: CallObserver | None = None) -> VoiceServices:
        """Per event loop: the scheduler's workers belong to the loop that runs the calls."""
        return VoiceServices(
            dialog=self.dialog,
            scheduler=DecodeScheduler(self.engine, workers=self.asr.workers),
            tts=self.tts,
            settings=self.voice,
            asr=self.asr,
            vad=self.vad,
            prompt=self.prompt,
            prompts=self.prompts,
            answers=self.answers,
            records=self.records,
            observer=observer,
        )

    def close(self) -> None:
        if self.owns_tts:
            with contextlib.suppress(Exception):
                self.tts.close()
        with contextlib.suppress(Exception):
            self.dialog.store.close()


def _lead_worker(dialog: DialogService):
    """A DeliveryWorker on the same outbox the dialog writes leads to."""
    from salesagent.notify import DeliveryWorker, NotifySettings, build_sink

    outbox = getattr(dialog.leads, "outbox", None)
    if outbox is None:
        return None
    notify = NotifySettings()
    return DeliveryWorker.from_settings(outbox, build_sink(notify), notify)


def _console_hub(parts: AppParts, observer: CallObserver | None) -> Any:
    """The console's live hub (it forwards every event to ``observer``), or None when it is off."""
    from salesagent.console import ConsoleSettings, LiveHub

    return LiveHub(forward=observer) if parts.console and ConsoleSettings().enabled else None


def _mount_console(app: FastAPI, stack: VoiceStack, agent: VoiceAgent, hub: Any) -> None:
    from salesagent.console import mount_console

    mount_console(app, calls_root=stack.records.root, db_path=stack.settings.ensure_data_dir() / "console.sqlite3",
                  outbox=getattr(stack.dialog.leads, "outbox", None), handler=agent, hub=hub)


def create_voice_app(
    stack: VoiceStack,
    *,
    telephony: TelephonySettings | None = None,
    parts: AppParts | None = None,
    observer: CallObserver | None = None,
) -> FastAPI:
    """The FastAPI app; ``app.state.voice`` holds the :class:`VoiceServices` while it runs."""
    telephony = telephony or TelephonySettings()
    parts = parts or AppParts()
    console = _console_hub(parts, observer)
    services = stack.services(console or observer)
    agent = VoiceAgent(services)
    register_tts_stats(stack.tts)
    sub_apps: list[FastAPI] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack_cm:
            for sub in sub_apps:
                await stack_cm.enter_async_context(sub.router.lifespan_context(sub))
            if parts.telephony and telephony.enable_audiosocket:
                app.state.audiosocket = await stack_cm.enter_async_context(AudioSocketServer(agent, telephony))
            worker = _lead_worker(stack.dialog) if parts.lead_worker else None
            worker_task = asyncio.create_task(worker.run_forever()) if worker is not None else None
            app.state.lead_worker = worker
            log.info("voice agent ready", extra={"context": {"parts": parts.__dict__}})
            try:
                yield
            finally:
                if worker is not None and worker_task is not None:
                    worker.stop()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await asyncio.wait_for(worker_task, 10)
                await services.scheduler.aclose()

    app = FastAPI(title="salesagent voice agent", lifespan=lifespan)
    protect(app)  # SALESAGENT_API_TOKEN, when set, guards every route but the health probes
    app.state.voice = services
    app.state.agent = agent

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if parts.telephony:
        app.include_router(audiofork_router(agent, telephony))
        app.include_router(twilio_router(agent, telephony))
    if parts.asr_gateway:
        from salesagent.services.asr_gateway import create_app as asr_app

        sub = asr_app(stack.asr, vad=stack.vad, engine=stack.engine, prompt=stack.prompt or "")
        sub_apps.append(sub)
        app.mount("/asr", sub)
    if parts.tts_gateway:
        from salesagent.services.tts_gateway import create_app as tts_app
        from salesagent.speech.tts_config import TtsSettings

        sub = tts_app(TtsSettings(), synthesizer=stack.tts)
        sub_apps.append(sub)
        app.mount("/tts", sub)
    if console is not None:
        _mount_console(app, stack, agent, console)
    if parts.dialog_api:
        from salesagent.services.dialog_api import create_app as dialog_app

        sub = dialog_app(stack.dialog, sweep_interval_s=stack.settings.session_sweep_interval_s)
        sub_apps.append(sub)
        app.mount("/", sub)  # last: the dialog API's paths (/dialog, /session/..., /health, /ready)
    return app
