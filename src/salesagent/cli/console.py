"""``salesagent console add-user NAME``: the line that gives a clinic employee a console login.

Only the scrypt hash is printed (for ``SALESAGENT_CONSOLE_USERS``), so the password never lands
in a config file or a shell history in clear.
"""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("add-user")
def add_user(name: str = typer.Argument(..., help="Login name (no ':' or ';')."),
             password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                          envvar="SALESAGENT_CONSOLE_PASSWORD")) -> None:
    """Print ``name:scrypt$...`` to add to SALESAGENT_CONSOLE_USERS (entries separated by ';')."""
    from salesagent.console.auth import hash_password

    if not name or ":" in name or ";" in name:
        raise typer.BadParameter("a name without ':' or ';'")
    if len(password) < 8:
        raise typer.BadParameter("the password must be at least 8 characters")
    typer.echo(f"{name}:{hash_password(password)}")
