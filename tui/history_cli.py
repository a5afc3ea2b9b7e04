"""`builderos sessions`, `search` and `export`: the history from the command line, for people
and (with `--json`) for scripts. Errors are one line and a non-zero exit."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from tui.client.history import HistoryError, RemoteSession, fetch_history, list_sessions
from tui.config import ConfigError, data_dir_of, default_config_path, resolve
from tui.export import Conversation, from_backend, local_conversation, render, write
from tui.session_list import merge
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


Url = Annotated[
    str | None, Opt(help="Backend base URL (env BUILDEROS_URL). None: this machine's history only.")
]
Token = Annotated[str | None, Opt(help="API token (env BUILDEROS_TOKEN).")]


def _backend(
    url: str | None, token: str | None, data_dir: Path | None, config: Path | None
) -> tuple[str | None, str | None, Path]:
    try:
        settings = resolve(url=url, token=token, data_dir=data_dir, config_path=config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    return settings.url, settings.token, settings.data_dir


def sessions(
    as_json: Annotated[bool, Opt("--json", help="One JSON array, for scripts.")] = False,
    url: Url = None,
    token: Token = None,
    data_dir: DataDir = None,
    config: ConfigPath = None,
) -> None:
    """The backend's sessions and this machine's, and where each is open."""
    base, _, folder = _backend(url, token, data_dir, config)
    store = _open(folder, None)
    try:
        local = store.sessions()
        me = store.setting("device_id") or ""
    finally:
        store.close()
    remote: list[RemoteSession] = []
    problem = None
    if base is not None:
        try:
            remote = asyncio.run(list_sessions(base))
        except HistoryError as exc:
            problem = str(exc)
    rows = merge(remote, local, me)
    if as_json:
        typer.echo(json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2))
    else:
        out = Console(highlight=False, soft_wrap=True)
        for row in rows:
            stamp = row.last_activity[:16].replace("T", " ")
            title = f" “{row.title}”" if row.title else ""
            backend = "" if row.on_backend or base is None else " (not on the backend)"
            out.print(
                f"{stamp}  {row.provider or '?':6} {row.messages:>5} msgs  "
                f"{row.where}{title}{backend}  {row.session_id}",
                markup=False,
            )
        if not rows:
            console.print("No sessions yet.")
    if problem:
        raise _fail(f"{problem}; shown: this machine's sessions only")


def export(
    session: Annotated[str, Opt(help="The session id (see `builderos sessions`).")],
    format: Annotated[
        Literal["md", "json"], Opt("--format", help="md: to read; json: lossless.")
    ] = "md",
    output: Annotated[
        Path | None, Opt("--output", "-o", help="Write to this file (mode 0600), not stdout.")
    ] = None,
    url: Url = None,
    token: Token = None,
    data_dir: DataDir = None,
    config: ConfigPath = None,
) -> None:
    """Export one conversation as Markdown or JSON: from the backend when it keeps the
    session's history (delivery extension), else from this machine's history."""
    base, key, folder = _backend(url, token, data_dir, config)
    conversation = None
    if base is not None and key is not None:
        try:
            remote = asyncio.run(fetch_history(base, key, session))
        except HistoryError as exc:
            raise _fail(str(exc)) from None
        if remote:
            provider = "codex" if "-codex-" in session else "claude"
            conversation = Conversation(session, from_backend(remote), "", provider, source=base)
    if conversation is None:
        store = _open(folder, None)
        try:
            conversation = local_conversation(store, session)
        except StoreError as exc:
            raise _fail(str(exc)) from None
        finally:
            store.close()
        if conversation is None:
            where = " or on the backend" if base else ""
            raise _fail(f"no session {session} in this history{where}")
    if output is None:
        sys.stdout.write(render(conversation, format))
        return
    try:
        write(conversation, format, output)
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc}") from None
    console.print(
        f"Wrote {len(conversation.messages)} messages from {conversation.source} to {output}."
    )
