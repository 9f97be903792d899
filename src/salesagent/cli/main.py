"""``salesagent`` command line (typer)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Russian voice sales agent for a diagnostic clinic.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the version."""
    from salesagent import __version__

    typer.echo(__version__)
