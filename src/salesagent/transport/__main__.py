"""``python -m salesagent.transport [--handler echo] [--host H] [--port P] [--audiosocket-port P]``."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m salesagent.transport", description=__doc__)
    parser.add_argument("--handler", default="echo", help="'echo' or package.module:attribute")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int, help="WebSocket port (mod_audio_fork, Twilio)")
    parser.add_argument("--audiosocket-port", type=int)
    args = parser.parse_args(argv)

    import uvicorn

    from salesagent.config import get_settings
    from salesagent.logs import setup_logging
    from salesagent.transport.config import TelephonySettings
    from salesagent.transport.server import HandlerSpecError, create_app, load_handler

    try:
        overrides = {k: v for k, v in {"host": args.host, "http_port": args.port,
                                       "audiosocket_port": args.audiosocket_port}.items() if v is not None}
        settings = TelephonySettings(**overrides)
        handler = load_handler(args.handler)
    except (ValidationError, HandlerSpecError) as exc:
        print(f"salesagent.transport: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    shared = get_settings()
    setup_logging("salesagent-telephony", shared.log_level, mask_pii=not shared.log_pii)
    from salesagent.security import exit_if_insecure_bind
    from salesagent.transport.wsutil import WS_MAX_SIZE

    exit_if_insecure_bind(settings.host)
    uvicorn.run(create_app(handler, settings), host=settings.host, port=settings.http_port, log_config=None,
                ws_max_size=max(WS_MAX_SIZE, settings.max_frame_bytes + 4096))
    return 0


if __name__ == "__main__":
    sys.exit(main())
