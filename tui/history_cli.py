"""`builderos search` and `builderos export`: this machine's history from the command line,
for people and (with `--json`) for scripts. Errors are one line and a non-zero exit."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from tui.config import ConfigError, data_dir_of, default_config_path
from tui.export import Conversation, to_json, to_markdown
from tui.private_files import private_file
from tui.store import ChatStore, StoreError

Opt = typer.Option
console = Console(stderr=True, highlight=False)
DataDir = Annotated[
    Path | None, Opt(help="Where tabs and history live. Default: the user data dir.")
]
ConfigPath = Annotated[Path | None, Opt(help=f"Config file. Default: {default_config_path()}")]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/] {message}")
    return typer.Exit(1)


def _open(data_dir: Path | None, config: Path | None) -> ChatStore:
    try:
        folder = data_dir_of(data_dir, config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    path = folder / "history.db"
    if not path.exists():
        raise _fail(f"no history at {path} (use --data-dir, or chat first)")
    try:
        return ChatStore(path)
    except StoreError as exc:
        raise _fail(str(exc)) from None


def search(
    text: Annotated[str, typer.Argument(help="Words to find (all of them; the last as a prefix).")],
    limit: Annotated[int, Opt(help="At most this many results.", min=1)] = 20,
    as_json: Annotated[bool, Opt("--json", help="One JSON array, for scripts.")] = False,
    data_dir: DataDir = None,
    config: ConfigPath = None,
) -> None:
    """Search every message stored on this machine, closed tabs included."""
    store = _open(data_dir, config)
    try:
        hits = store.search(text, limit)
    except StoreError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([asdict(hit) for hit in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        console.print(f"No message contains “{text}”.")
        raise typer.Exit(1)
    out = Console(highlight=False, soft_wrap=True)
    for hit in hits:
        where = f"{hit.title} (tab {'open' if hit.open else 'closed'})" if hit.tab_id else "no tab"
        out.print(
            f"[bold]{hit.timestamp[:16].replace('T', ' ')}[/] {hit.role:<9} {where} · "
            f"session {hit.session_id}",
            markup=True,
        )
        out.print(f"    {' '.join(hit.snippet.split())}", markup=False)


def export(
    session: Annotated[str, Opt(help="The session id (see `builderos search`).")],
    format: Annotated[
        Literal["md", "json"], Opt("--format", help="md: to read; json: lossless.")
    ] = "md",
    output: Annotated[
        Path | None, Opt("--output", "-o", help="Write to this file (mode 0600), not stdout.")
    ] = None,
    data_dir: DataDir = None,
    config: ConfigPath = None,
) -> None:
    """Export one conversation from this machine's history, as Markdown or JSON."""
    store = _open(data_dir, config)
    try:
        messages = store.session_messages(session)
        known = next((s for s in store.sessions() if s.session_id == session), None)
    except StoreError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    if not messages or known is None:
        raise _fail(f"no session {session} in this history")
    conversation = Conversation(session, messages, known.title, known.provider)
    text = to_json(conversation) if format == "json" else to_markdown(conversation)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        with private_file(output).open("w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc}") from None
    console.print(f"Wrote {len(messages)} messages to {output}.")
