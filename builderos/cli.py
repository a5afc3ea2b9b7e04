"""The `builderos` command: each part of the project contributes its own subcommand."""

from __future__ import annotations

import typer

from builderos import __version__
from mock_backend.cli import mock

app = typer.Typer(
    name="builderos",
    help="BuilderOS Terminal: chat with Jarvis and Codex, run the mock backend, check a backend.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(name="mock")(mock)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"builderos {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """BuilderOS Terminal."""


def main() -> None:
    app()
