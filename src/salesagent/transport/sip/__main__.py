"""``python -m salesagent.transport.sip run ...`` (same as ``salesagent sip run``)."""

from salesagent.transport.sip.cli import app

if __name__ == "__main__":
    app(prog_name="python -m salesagent.transport.sip")
