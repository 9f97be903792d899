"""``salesagent prerender`` and ``salesagent serve-tts``: the voice from the command line.

The lead wires :func:`prerender_command` and :func:`serve_tts_command` (or the typer ``app``)
into the main CLI. Configuration errors print ONE line and exit 2.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(help="TTS: prerender the clinic's phrases, serve the TTS gateway.", no_args_is_help=True)


def _load_settings():
    from pydantic import ValidationError

    from salesagent.speech.tts_config import TtsSettings

    try:
        return TtsSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = "_".join(str(p) for p in first["loc"]).upper()
        name = f"SALESAGENT_TTS_{loc}" if loc else "SALESAGENT_TTS_*"
        raise ValueError(f"invalid {name}: {first['msg'].removeprefix('Value error, ')}") from None


@app.command("prerender")
def prerender_command(
    count: int = typer.Option(None, help="How many phrases (default SALESAGENT_TTS_PRERENDER_COUNT, 30)."),
    rate: list[int] = typer.Option(None, "--rate", help="Output rate(s) to render; repeatable (default 8000)."),
) -> None:
    """Synthesise the clinic profile's most frequent phrases into the TTS cache."""
    from salesagent.clinic.profile import load_profile
    from salesagent.config import get_settings
    from salesagent.logs import setup_logging
    from salesagent.speech.tts import TtsError, build_synthesizer
    from salesagent.speech.tts.prerender import prerender
    from salesagent.speech.tts_config import OUTPUT_RATES

    try:
        shared = get_settings()
        setup_logging("tts-prerender", shared.log_level, mask_pii=not shared.log_pii)
        settings = _load_settings()
        for r in rate or []:
            if r not in OUTPUT_RATES:
                raise ValueError(f"--rate must be one of {', '.join(map(str, OUTPUT_RATES))}, got {r}")
        profile = load_profile(shared.profile_path)
        synth = build_synthesizer(settings)
    except (TtsError, ValueError, OSError) as exc:  # ProfileError is a ValueError
        typer.echo(f"prerender: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        report = prerender(synth, profile, count if count is not None else settings.prerender_count,
                           tuple(rate) if rate else None)
    except TtsError as exc:
        typer.echo(f"prerender: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        synth.close()
    typer.echo(
        f"prerendered {report.phrases} phrases ({report.sentences} sentences: {report.synthesized} synthesised, "
        f"{report.cached} already cached) with {settings.engine} in {report.seconds:.1f} s"
    )


@app.command("serve-tts")
def serve_tts_command(
    host: str = typer.Option(None, help="Bind address (default SALESAGENT_TTS_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default SALESAGENT_TTS_PORT or 8092)."),
) -> None:
    """Serve POST /synthesize, GET /health, GET /ready."""
    from salesagent.config import get_settings
    from salesagent.logs import setup_logging
    from salesagent.speech.tts import TtsError

    try:
        shared = get_settings()
        setup_logging("tts-gateway", shared.log_level, mask_pii=not shared.log_pii)
        settings = _load_settings()
        from salesagent.services.tts_gateway import create_app

        application = create_app(settings)
    except (TtsError, ValueError, OSError) as exc:
        typer.echo(f"serve-tts: {exc}", err=True)
        raise typer.Exit(2) from None

    import uvicorn

    from salesagent.security import exit_if_insecure_bind

    exit_if_insecure_bind(host or settings.host)
    uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_config=None)


if __name__ == "__main__":  # python -m salesagent.cli.speech_tts
    sys.exit(app())
