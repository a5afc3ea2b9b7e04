"""The `builderos` command: each part of the project contributes its own subcommand."""

from __future__ import annotations

import inspect

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


def prose(doc: str | None) -> str:
    """A docstring as help text: its paragraphs kept, the line breaks inside each joined (Rich
    keeps a docstring's hard breaks, so help read "and validate a / backend" at any width)."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


for name, command in (
    ("chat", chat),
    ("send", send),
    ("mock", mock),
    ("check", check),
    ("sessions", sessions),
    ("search", search),
    ("export", export),
):
    app.command(name=name, help=prose(command.__doc__))(command)


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
