"""The `builderos` command: each part of the project contributes its own subcommand."""

from __future__ import annotations

import typer

from builderos import __version__
from harness.cli import check
from mock_backend.cli import mock
from tui.cli import chat
from tui.history_cli import export, search, sessions
from tui.send_cli import send

app = typer.Typer(
    name="builderos",
    help="BuilderOS Terminal: chat with Jarvis and Codex, run the mock backend, check a backend.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(name="chat")(chat)
app.command(name="send")(send)
app.command(name="mock")(mock)
app.command(name="check")(check)
app.command(name="sessions")(sessions)
app.command(name="search")(search)
app.command(name="export")(export)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"builderos {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """BuilderOS Terminal. With no command: `builderos chat`."""
    if ctx.invoked_subcommand is None:
        chat()


def main() -> None:
    app()
