"""``salesagent demo`` and ``salesagent serve`` (the all-in-one voice agent).

Mounted into ``salesagent.cli.main`` as ``salesagent demo`` and ``salesagent serve``.

Exit codes of ``demo``: 0 the call booked, 1 it did not, 2 bad configuration (one line on stderr).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="The voice agent: demo call, all-in-one server.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)

_STAGE_RU = {"endpointing": "конец фразы", "asr": "ASR", "dialog": "диалог", "tts_first_chunk": "TTS",
             "playout_start": "отправка"}


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"salesagent: {message}", err=True)
    return typer.Exit(code)


def _load(cls):
    """A settings class; a bad value becomes one line naming the variable."""
    from pydantic import ValidationError

    try:
        return cls()
    except ValidationError as exc:
        first = exc.errors()[0]
        prefix = cls.model_config.get("env_prefix", "")
        name = prefix + "_".join(str(p) for p in first["loc"]).upper()
        raise _fail(f"bad setting {name}: {first['msg']}") from None


def build_stack(asr_workers: int | None = None):
    """Load the dialog, Whisper and the TTS once; configuration errors exit 2 with one line.

    The dialog (profile, clock, extractor and its LLM server, store) is built first: a
    configuration error there is reported before seconds go into loading the speech models.
    """
    from salesagent.clinic.profile import ProfileError, load_profile
    from salesagent.config import Settings
    from salesagent.dialog.store import StoreUnavailable
    from salesagent.pipeline.config import VoiceSettings
    from salesagent.services.app import VoiceStack
    from salesagent.services.factory import build_service
    from salesagent.speech.asr.whisper import AsrConfigError
    from salesagent.speech.config import AsrSettings, VadSettings
    from salesagent.speech.tts import TtsError

    settings = _load(Settings)
    asr = _load(AsrSettings)
    if asr_workers:
        asr = asr.model_copy(update={"workers": asr_workers})
    try:
        dialog = build_service(settings, load_profile(settings.profile_path))
        return VoiceStack.build(settings, dialog=dialog, voice=_load(VoiceSettings), asr=asr, vad=_load(VadSettings))
    except (AsrConfigError, TtsError, ProfileError, StoreUnavailable, OSError, ValueError) as exc:
        raise _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


class LivePrinter:
    """The demo's terminal: every utterance, state, slot and turn latency as it happens."""

    def __init__(self, console) -> None:
        self.console = console
        self.slots: dict[str, Any] = {}

    def caller_line(self, call_id: str, line) -> None:
        self.console.print(f"[cyan]  Клиент говорит[/]  {line.text}" + (" [dim](повтор)[/]" if line.attempt else ""))

    def __call__(self, call_id: str, kind: str, data: dict[str, Any]) -> None:
        c = self.console
        if kind == "agent":
            label = {"silence_prompt": "тишина", "goodbye": "прощание"}.get(data.get("kind", ""), data.get("state"))
            c.print(f"[bold green]Агент[/] [dim]\\[{label}][/] {data['text']}")
            for name, value in (data.get("slots") or {}).items():
                if name in ("status",) or value in (None, [], ""):
                    continue
                if self.slots.get(name) != value:
                    self.slots[name] = value
                    c.print(f"    [magenta]слот[/] {name} = [bold]{value}[/]")
        elif kind == "caller":
            c.print(f"[bold cyan]  Распознано[/]    «{data['text']}» [dim](уверенность {data['confidence']:.2f})[/]")
        elif kind == "latency":
            v2v = data.get("voice_to_voice_ms")
            parts = " · ".join(f"{_STAGE_RU.get(k, k)} {v:.0f}" for k, v in data.get("stages_ms", {}).items())
            if v2v is not None:
                c.print(f"    [yellow]⏱ ход {data['turn']}: {v2v:.0f} мс[/] [dim]({parts})[/]")
        elif kind == "barge_in":
            c.print("    [red]✋ клиент перебил агента: звук остановлен[/]")
        elif kind == "backchannel":
            c.print(f"    [dim]поддакивание ({data.get('why')}), агент продолжает[/]")
        elif kind == "ended":
            c.print(f"[bold]— звонок завершён: {data.get('status')} ({data.get('reason')})[/]")


def _summary(console, outcome, delivered: int, xlsx: Path | None, out_dir: Path | None) -> None:
    from rich.table import Table

    report = outcome.report
    lat = report.get("latency", {})
    table = Table(title=f"Звонок {outcome.call_id}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    v2v = lat.get("voice_to_voice_ms", {})
    table.add_row("Статус", str(outcome.status))
    table.add_row("Путь состояний", " → ".join(report.get("state_path", [])))
    table.add_row("Длительность", f"{report.get('duration_s')} с")
    table.add_row("Реплики клиента", str(len(outcome.caller.lines)))
    table.add_row("Перебивания / поддакивания", f"{report.get('barge_ins')} / {report.get('backchannels')}")
    table.add_row("Задержка голос→голос p50 / p95 / max",
                  f"{v2v.get('p50')} / {v2v.get('p95')} / {v2v.get('max')} мс ({lat.get('turns_measured')} ходов)")
    for stage, vals in lat.get("stages", {}).items():
        table.add_row(f"  {_STAGE_RU.get(stage, stage)} (среднее / max)", f"{vals['mean_ms']} / {vals['max_ms']} мс")
    slots = {k: v for k, v in (report.get("slots") or {}).items() if k != "provenance" and v not in (None, [])}
    table.add_row("Слоты", json.dumps(slots, ensure_ascii=False, indent=None))
    for key in ("recording_path", "report_path"):
        if key in outcome.ended:
            table.add_row("Запись (стерео: клиент L, агент R)" if key == "recording_path" else "Отчёт",
                          outcome.ended[key])
    if out_dir is not None:
        table.add_row("Копии", str(out_dir))
    table.add_row("Лид в таблице", f"{xlsx} ({delivered} доставлено)" if xlsx else f"{delivered} доставлено")
    console.print(table)


@app.command()
def demo(
    persona: str = typer.Option("anna", help="Persona name (anna, quick) or a YAML file."),
    transport: str = typer.Option("audiofork", help="Telephony path: audiofork (FreeSWITCH mod_audio_fork)."),
    pitch: int = typer.Option(None, help="Caller voice pitch shift in cents (default: the persona's)."),
    tempo: float = typer.Option(None, help="Caller voice tempo factor (default: the persona's)."),
    out: Path = typer.Option(None, help="Also copy the recording and the report into this folder."),
    log_level: str = typer.Option("WARNING", help="JSON log level on stderr."),
    max_call_s: float = typer.Option(600.0, help="Give up on the call after this long."),
) -> None:
    """A whole phone call: a simulated Russian caller talks to the agent over mod_audio_fork."""
    from rich.console import Console

    from salesagent.config import get_settings
    from salesagent.demo.persona import PersonaError, load_persona
    from salesagent.logs import setup_logging
    from salesagent.speech.asr.caller_voice import CallerVoiceUnavailableError, require_tools

    if transport != "audiofork":
        raise _fail(f"transport {transport!r} is not supported by the demo: use audiofork")
    os.environ.setdefault("SALESAGENT_NOW", "2026-11-25T11:00:00+03:00")  # the script's dates are fixed
    get_settings.cache_clear()
    setup_logging("salesagent", log_level)
    try:
        chosen = load_persona(persona)
        require_tools()
    except (PersonaError, CallerVoiceUnavailableError) as exc:
        raise _fail(str(exc)) from None
    console = Console()
    console.print(f"[bold]Демо-звонок[/]: {chosen.description} [dim](персона {chosen.name}, {transport})[/]")
    console.print("[dim]Загрузка моделей (Whisper, TTS)…[/]")
    stack = build_stack()
    printer = LivePrinter(console)
    data_dir = get_settings().ensure_data_dir()
    try:
        outcomes, delivered = asyncio.run(_demo(stack, chosen, printer, data_dir, pitch, tempo, max_call_s))
    finally:
        stack.close()
    outcome = outcomes[0]
    from salesagent.notify import NotifySettings

    notify = NotifySettings()
    xlsx = notify.resolved_xlsx_path() if not notify.use_google and notify.sink in ("auto", "xlsx") else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for key in ("recording_path", "report_path"):
            if key in outcome.ended:
                shutil.copy2(outcome.ended[key], out / Path(outcome.ended[key]).name)
    _summary(console, outcome, delivered, xlsx, out)
    raise typer.Exit(0 if outcome.status == "booked" else 1)


async def _demo(stack, persona, printer, data_dir: Path, pitch, tempo, max_call_s):
    from salesagent.demo.runner import CallHub, deliver_leads, run_calls

    hub = CallHub(forward=printer)
    outcomes = await run_calls(stack, [persona], voice_cache=data_dir / "demo-voice", hub=hub,
                               on_line=printer.caller_line, pitch_cents=pitch, tempo=tempo, max_call_s=max_call_s)
    delivered = await deliver_leads(stack)
    return outcomes, delivered


def serve_voice(host: str, port: int, log_level: str | None = None) -> None:
    """The all-in-one server: telephony + dialog API + ASR/TTS gateways + lead worker + /metrics."""
    from salesagent.config import get_settings
    from salesagent.logs import setup_logging
    from salesagent.security import exit_if_insecure_bind
    from salesagent.services.app import create_voice_app
    from salesagent.services.drain import DrainSettings, serve_draining
    from salesagent.transport.config import TelephonySettings
    from salesagent.transport.wsutil import WS_MAX_SIZE

    settings = get_settings()
    setup_logging("salesagent", log_level or settings.log_level, mask_pii=not settings.log_pii)
    exit_if_insecure_bind(host)  # before the models load: fail fast
    stack = build_stack()
    telephony = _load(TelephonySettings)
    try:
        # SIGTERM drains: /ready 503, new calls refused, live calls finish (services/drain.py)
        serve_draining(create_voice_app(stack, telephony=telephony), _load(DrainSettings), host=host, port=port,
                       log_config=None, ws_max_size=max(WS_MAX_SIZE, telephony.max_frame_bytes + 4096))
    finally:
        stack.close()


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="TCP port (WebSockets, HTTP API, /metrics)."),
    log_level: str = typer.Option(None, help="Log level (default SALESAGENT_LOG_LEVEL)."),
) -> None:
    """Serve the whole agent in one process (see docs/voice-pipeline.md)."""
    serve_voice(host, port, log_level)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
