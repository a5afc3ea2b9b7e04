"""The `builderos` command line as Typer reads it: each subcommand's function from its own part
of the project, with the help Typer makes of its docstring and options (`builderos.cli` runs
it, unless a command line needs no Typer)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import typer

from builderos import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "chat": ("tui.commands.chat", "chat"),
    "send": ("tui.commands.send", "send"),
    "watch": ("tui.commands.watch", "watch"),
    "mock": ("mock_backend.cli", "mock"),
    "check": ("harness.cli", "check"),
    "sessions": ("tui.commands.history", "sessions"),
    "search": ("tui.commands.history", "search"),
    "export": ("tui.commands.history", "export"),
}
"""Each subcommand, in the order `--help` lists them: the module and function that run it."""


def prose(doc: str | None) -> str:
    """A docstring as help text: its paragraphs kept, the line breaks inside each joined (Rich
    keeps a docstring's hard breaks, so help read "and validate a / backend" at any width)."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _command(name: str) -> Callable[..., Any]:
    module, function = COMMANDS[name]
    command: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return command


def _version(value: bool) -> None:
    if value:
        typer.echo(f"builderos {__version__}")
        raise typer.Exit()


def _root(
    ctx: typer.Context,
    show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """BuilderOS Terminal. With no command: `builderos chat`."""
    if ctx.invoked_subcommand is None:
        _command("chat")()


def build(names: list[str] | None = None) -> typer.Typer:
    """The command line with these subcommands (None: every one)."""
    app = typer.Typer(
        name="builderos",
        help="BuilderOS Terminal: chat with Jarvis and Codex, run the mock backend, check a "
        "backend.",
        invoke_without_command=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for name in COMMANDS if names is None else names:
        command = _command(name)
        app.command(name=name, help=prose(command.__doc__))(command)
    app.callback()(_root)
    return app


def run(args: list[str]) -> None:
    """Typer reads `builderos ARGS`, with the commands it needs registered."""
    first = args[0] if args else "chat"
    if first in COMMANDS:
        build([first])()
    else:  # --version needs no command; --help and a mistyped command list them all
        build([] if args == ["--version"] else None)()
