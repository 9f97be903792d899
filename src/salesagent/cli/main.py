"""``salesagent`` command line (typer).

Every command fails with one line and a non-zero exit code on bad configuration (a broken
clinic profile, an unreachable store), never with a traceback.
"""

from __future__ import annotations

import json
import sys
import uuid

import typer

from salesagent import __version__
from salesagent.security import exit_if_insecure_bind

app = typer.Typer(
    help="Russian voice sales agent for a diagnostic clinic (MRI, CT, ultrasound).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _mount_optional() -> None:
    """Sub-commands of the other stages; each imports only what it needs when it runs."""
    from salesagent.cli.leads import app as leads_app

    app.add_typer(leads_app, name="leads", help="Leads: list, retry, export, delivery worker.")
    from salesagent.cli.console import app as console_app

    app.add_typer(console_app, name="console", help="The web console: staff logins.")
    from salesagent.transport.sip.cli import app as sip_app

    app.add_typer(sip_app, name="sip", help="SIP edge: answer SIP calls and bridge them to the agent.")
    from salesagent.cli.speech_asr import serve_asr_command

    app.command("serve-asr", help="Run the ASR gateway alone (WS /ws/transcribe).")(serve_asr_command)
    from salesagent.cli.speech_tts import prerender_command, serve_tts_command

    app.command("serve-tts", help="Run the TTS gateway alone (POST /synthesize).")(serve_tts_command)
    app.command("prerender", help="Render the clinic's most frequent phrases into the TTS cache.")(prerender_command)
    from salesagent.cli.voice import demo, serve_command

    app.command("demo", help="The main job: a whole simulated phone call over mod_audio_fork.")(demo)
    app.command("serve", help="Serve the whole agent in one process (telephony, dialog, ASR, TTS, leads).")(
        serve_command
    )


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"salesagent: {message}", err=True)
    return typer.Exit(code)


def _settings_and_logging(log_level: str | None = None):
    from pydantic import ValidationError

    from salesagent.config import get_settings
    from salesagent.logs import setup_logging

    try:
        settings = get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"bad setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    setup_logging("salesagent", log_level or settings.log_level, mask_pii=not settings.log_pii)
    return settings


def _service(settings, leads: bool = True):
    from salesagent.clinic.profile import ProfileError
    from salesagent.clock import ClockError
    from salesagent.dialog.store import StoreUnavailable
    from salesagent.services.factory import StartupError, build_service

    try:
        return build_service(settings, leads=leads)
    except (ProfileError, StoreUnavailable, ClockError, StartupError) as exc:
        raise fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def chat(
    as_json: bool = typer.Option(False, "--json", help="Print each turn's state and slots as JSON lines."),
    session_id: str = typer.Option(None, help="Continue or start this session id."),
    log_level: str = typer.Option("WARNING", help="Log level for the JSON logs on stderr."),
) -> None:
    """Talk to the agent in the terminal (reads lines from stdin when it is not a terminal)."""
    settings = _settings_and_logging(log_level)
    service = _service(settings)
    sid = session_id or f"chat-{uuid.uuid4().hex[:12]}"
    interactive = sys.stdin.isatty()

    def show(result) -> None:
        if as_json:
            typer.echo(
                json.dumps(
                    {"state": result.state.value, "reply": result.reply, "slots": result.slots, "done": result.done},
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(f"Агент [{result.state.value}]: {result.reply}")

    result = service.handle_sync(sid, "")
    show(result)
    while not result.done:
        if interactive:
            try:
                line = input("Вы: ")
            except EOFError:
                break
        else:
            line = sys.stdin.readline()
            if not line:
                break
            if not as_json:
                typer.echo(f"Вы: {line.rstrip()}")
        result = service.handle_sync(sid, line.strip())
        show(result)
    if not result.done:
        service.end_call_sync(sid)
    session = service.store.get(sid)
    status = session.slots.status.value if session and session.slots.status else "abandoned"
    if not as_json:
        typer.echo(f"— звонок завершён, статус: {status}")
    service.store.close()


@app.command("serve-dialog")
def serve_dialog(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="TCP port."),
    log_level: str = typer.Option(None, help="Log level (default from SALESAGENT_LOG_LEVEL)."),
) -> None:
    """Run the policy engine's HTTP API alone (POST /dialog, GET|DELETE /session/{id})."""
    import uvicorn

    from salesagent.services.dialog_api import create_app

    settings = _settings_and_logging(log_level)
    service = _service(settings)
    exit_if_insecure_bind(host)
    app = create_app(service, sweep_interval_s=settings.session_sweep_interval_s)
    uvicorn.run(app, host=host, port=port, log_config=None)


_mount_optional()


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
