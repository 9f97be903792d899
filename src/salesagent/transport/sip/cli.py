"""``salesagent sip run``: the SIP edge as a command (the lead mounts ``app`` as ``salesagent sip``).

Also runnable alone: ``python -m salesagent.transport.sip run --port 5060 --audiofork-url ws://...``.
Options override ``SALESAGENT_SIP_*``; a bad setting or a port that cannot be bound ends with one
line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import typer

app = typer.Typer(help="SIP edge: answer SIP calls (G.711) and fork them to the agent over mod_audio_fork.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"salesagent sip: {message}", err=True)
    return typer.Exit(2)


@app.command()
def run(
    host: str = typer.Option(None, help="Bind address for SIP and RTP [SALESAGENT_SIP_HOST, 0.0.0.0]."),
    port: int = typer.Option(None, help="SIP UDP port [SALESAGENT_SIP_PORT, 5060]."),
    public_address: str = typer.Option(None, help="Address for Contact/SDP behind NAT."),
    audiofork_url: str = typer.Option(None, help="Agent's mod_audio_fork WebSocket URL."),
    max_calls: int = typer.Option(None, help="Concurrent calls before 486 Busy Here."),
    rtp_port: int = typer.Option(None, help="First RTP port."),
    log_level: str = typer.Option(None, help="Log level (default SALESAGENT_LOG_LEVEL)."),
) -> None:
    """Answer SIP calls and bridge each into the agent's audio-fork WebSocket until stopped."""
    from pydantic import ValidationError

    from salesagent.config import get_settings
    from salesagent.logs import setup_logging
    from salesagent.transport.sip.config import SipSettings
    from salesagent.transport.sip.ua import SipUnavailableError, require_pjsua2

    overrides = {k: v for k, v in {"host": host, "port": port, "public_address": public_address,
                                   "audiofork_url": audiofork_url, "max_calls": max_calls,
                                   "rtp_port": rtp_port}.items() if v is not None}
    try:
        settings = SipSettings(**overrides)
        shared = get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"bad setting {'.'.join(map(str, first['loc'])) or 'value'}: {first['msg']}") from None
    try:
        require_pjsua2()
    except SipUnavailableError as exc:
        raise _fail(str(exc)) from None
    setup_logging("salesagent-sip", log_level or shared.log_level, mask_pii=not shared.log_pii)

    from salesagent.transport.sip.edge import run_sip_edge

    try:
        run_sip_edge(settings)
    except SipUnavailableError as exc:
        raise _fail(str(exc)) from None


@app.command()
def check() -> None:
    """Print the pjsua2 version and the settings in effect, or say in one line what is missing."""
    from pydantic import ValidationError

    from salesagent.transport.sip.config import SipSettings
    from salesagent.transport.sip.ua import SipUnavailableError, require_pjsua2

    try:
        pj = require_pjsua2()
        settings = SipSettings()
    except SipUnavailableError as exc:
        raise _fail(str(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"bad setting {'.'.join(map(str, first['loc'])) or 'value'}: {first['msg']}") from None
    version = getattr(pj, "__version__", None) or "unknown"
    typer.echo(f"pjsua2 {version}; sip udp {settings.host}:{settings.port}; fork {settings.audiofork_url}; "
               f"max_calls {settings.max_calls}")
