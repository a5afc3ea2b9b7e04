"""The `builderos` command: each part of the project contributes its own subcommand.

A command loads only its own module (the mock brings aiohttp, `send` websockets, `chat`
Textual): `builderos COMMAND` registers that command alone, and `--help` loads the modules of
every command (their heavy libraries load when a command runs); `builderos.typer_app` builds
the command line from them.

Two command lines need no Typer, which costs more than they take to run (it loads pydantic to
read the values it parses): `builderos --version`, and a plain `builderos send` (`--url U
"hello"`, read by `tui.commands.send_run.command_line`), the one scripts start over and over.
Typer reads every other command line, with its help and its errors.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from builderos import __version__

if TYPE_CHECKING:
    from tui.system.local_backend import StartBackend


def __getattr__(name: str) -> Any:
    """`app`: the whole command line (tests and tools that walk every command)."""
    if name == "app":
        from builderos.typer_app import build

        return build()
    raise AttributeError(f"module 'builderos.cli' has no attribute {name!r}")


def main() -> None:
    args = sys.argv[1:]
    if not _completing():
        code = _without_typer(args)
        if code is not None:
            sys.exit(code)
    from builderos.typer_app import run

    run(args)


def _without_typer(args: list[str]) -> int | None:
    """The exit code of a command line that needs no Typer, None for the others."""
    if args == ["--version"]:
        return _as_typer_ends(_print_version)
    if args[:1] == ["send"] and "--help" not in args:
        from tui.commands import send_run

        return _as_typer_ends(lambda: send_run.main(args[1:], demo=_demo_backend))
    return None


def _as_typer_ends(run: Callable[[], int | None]) -> int | None:
    """`run()`, ended as Typer ends a command: ctrl+c exits 130 and a closed pipe 1, quietly."""
    try:
        return run()
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        sys.stdout = _Pacified(sys.stdout)
        sys.stderr = _Pacified(sys.stderr)
        return 1


def _print_version() -> int:
    print(f"builderos {__version__}", flush=True)
    return 0


def _demo_backend(data_dir: Path) -> StartBackend:
    from tui.commands.send import demo_backend  # loads Typer too: only with no backend set

    return demo_backend(data_dir)


def _completing() -> bool:
    """Shell completion asks Typer (`_BUILDEROS_COMPLETE`, or as it is named after another
    program name): Typer answers it."""
    return any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ)


class _Pacified:
    """A stream whose flush ignores a closed pipe, as Typer leaves stdout and stderr after one
    (no "Exception ignored" as Python exits)."""

    def __init__(self, stream: IO[Any]) -> None:
        self.stream = stream

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
