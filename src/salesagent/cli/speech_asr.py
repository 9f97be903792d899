"""``salesagent serve-asr``: run the ASR gateway standalone (uvicorn).

The lead wires :func:`serve_asr` (or the typer ``app``) into the main CLI. Configuration errors
(no model folder, CUDA requested but absent, bad SALESAGENT_ASR_* value) print ONE line and exit 2.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(help="ASR gateway (VAD + faster-whisper over WebSocket).", no_args_is_help=False)


def serve_asr(host: str | None = None, port: int | None = None) -> None:
    """Validate settings, build the app (fails fast) and serve it until interrupted."""
    from salesagent.config import get_settings
    from salesagent.logs import setup_logging
    from salesagent.speech.asr.whisper import AsrConfigError
    from salesagent.speech.config import AsrSettings, VadSettings
    from salesagent.transport.wsutil import WS_MAX_SIZE

    try:
        shared = get_settings()
        setup_logging("asr-gateway", shared.log_level, mask_pii=not shared.log_pii)
        settings = _load_settings(AsrSettings)
        vad = _load_settings(VadSettings)
        from salesagent.services.asr_gateway import create_app

        application = create_app(settings, vad=vad)
    except (AsrConfigError, ValueError, OSError) as exc:  # ProfileError is a ValueError
        typer.echo(f"serve-asr: {exc}", err=True)
        raise typer.Exit(2) from None

    import uvicorn

    from salesagent.security import exit_if_insecure_bind

    exit_if_insecure_bind(host or settings.host)
    uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_config=None,
                ws_max_size=WS_MAX_SIZE)


def _load_settings(cls):
    """Instantiate a settings class; a bad value becomes one line naming the variable."""
    from pydantic import ValidationError

    try:
        return cls()
    except ValidationError as exc:
        first = exc.errors()[0]
        prefix = cls.model_config.get("env_prefix", "")
        name = prefix + "_".join(str(p) for p in first["loc"]).upper() if first["loc"] else cls.__name__
        raise ValueError(f"invalid {name}: {first['msg']}") from None


@app.command("serve-asr")
def serve_asr_command(
    host: str = typer.Option(None, help="Bind address (default SALESAGENT_ASR_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default SALESAGENT_ASR_PORT or 8091)."),
) -> None:
    """Serve WS /ws/transcribe, GET /health, GET /ready."""
    serve_asr(host, port)


if __name__ == "__main__":  # python -m salesagent.cli.speech_asr
    sys.exit(app())
