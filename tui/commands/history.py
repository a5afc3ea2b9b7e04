"""`builderos sessions`, `search` and `export`: the history from the command line, for people
and (with `--json`) for scripts. Errors are one line and a non-zero exit, whatever the server
sent. What the server wrote (titles, ids, messages) reaches a terminal inert
(`tui.client.inert`) and a pipe or a file byte for byte."""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal, ParamSpec

import typer
from rich.console import Console
from rich.text import Text

from tui.client.history import HistoryError, RemoteSession, fetch_history, list_sessions
from tui.client.inert import for_stream, inert_line, inert_name, is_terminal
from tui.model.config import ConfigError, data_dir_of, default_config_path, resolve
from tui.model.export import Conversation, from_backend, local_conversation, render, write
from tui.model.session_list import merge
from tui.store import ChatStore, StoreError

Opt = typer.Option
console = Console(stderr=True, highlight=False, soft_wrap=True)
"""Messages for the person, on stderr: never markup (they quote ids and the server's words)."""
P = ParamSpec("P")
DataDir = Annotated[
    Path | None, Opt(help="Where tabs and history live. Default: the user data dir.")
]
ConfigPath = Annotated[Path | None, Opt(help=f"Config file. Default: {default_config_path()}")]


def _fail(message: str) -> typer.Exit:
    """One line on stderr, whatever `message` holds; raise what it returns."""
    console.print(Text.assemble(("error:", "red"), " ", inert_line(message)))
    return typer.Exit(1)


def _say(message: str) -> None:
    """A line for the person on stderr (not the output a script reads)."""
    console.print(Text(inert_line(message)))


def one_line(command: Callable[P, None]) -> Callable[P, None]:
    """The command's unforeseen failures (odd data, a closed pipe) as one `error:` line and
    exit 1, never a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _from_click(exc):
                raise
            raise _fail(f"{exc.__class__.__name__}: {exc}") from None

    return run


def _from_click(exc: Exception) -> bool:
    """Click's own exits and usage errors (Typer has its own copy of Click; Click itself is
    not a dependency, and raised none unless something loaded it)."""
    click = sys.modules.get("click")
    if click is None:
        return False
    return isinstance(exc, (click.exceptions.Exit, click.Abort, click.ClickException))


def _same(text: str) -> str:
    return text


def _open(data_dir: Path | None, config: Path | None) -> ChatStore:
    try:
        folder = data_dir_of(data_dir, config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    store = _existing(folder)
    if store is None:
        raise _fail(f"no history at {folder / 'history.db'} (use --data-dir, or chat first)")
    return store


def _existing(folder: Path) -> ChatStore | None:
    """This machine's history, if it has one (None on a machine that never chatted: the
    backend's sessions are what there is to list or export)."""
    path = folder / "history.db"
    if not path.exists():
        return None
    try:
        return ChatStore(path)
    except StoreError as exc:
        raise _fail(str(exc)) from None


@one_line
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
        _say(f"No message contains “{text}”.")
        raise typer.Exit(1)
    tty = is_terminal(sys.stdout)
    line, name = (inert_line, inert_name) if tty else (_same, _same)
    out = Console(highlight=False, soft_wrap=True)
    for hit in hits:
        where = f"{hit.title} (tab {'open' if hit.open else 'closed'})" if hit.tab_id else "no tab"
        stamp = line(hit.timestamp[:16].replace("T", " "))
        rest = f" {hit.role:<9} {line(where)} · session {name(hit.session_id)}"
        snippet = f"    {line(' '.join(hit.snippet.split()))}"
        if tty:
            out.print(Text.assemble((stamp, "bold"), rest))
            out.print(Text(snippet))
        else:
            sys.stdout.write(f"{stamp}{rest}\n{snippet}\n")


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


@one_line
def sessions(
    as_json: Annotated[bool, Opt("--json", help="One JSON array, for scripts.")] = False,
    url: Url = None,
    token: Token = None,
    data_dir: DataDir = None,
    config: ConfigPath = None,
) -> None:
    """The backend's sessions and this machine's, and where each is open. The backend's are
    capped at its most recent 2,000; how many more there are is said on stderr."""
    base, _, folder = _backend(url, token, data_dir, config)
    store = _existing(folder)
    if store is None and base is None:
        raise _fail(
            f"no history at {folder / 'history.db'} and no backend to ask "
            "(--url, BUILDEROS_URL or the config file)"
        )
    local, me = [], ""
    if store is not None:
        try:
            local = store.sessions()
            me = store.setting("device_id") or ""
        finally:
            store.close()
    remote: list[RemoteSession] = []
    problem = more = None
    if base is not None:
        try:
            listing = asyncio.run(list_sessions(base))
        except HistoryError as exc:
            problem = str(exc)
        else:
            remote = listing
            if listing.note:
                more = f"the backend's {len(listing):,} most recent sessions; {listing.note}"
    rows = merge(remote, local, me)
    if as_json:
        typer.echo(json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2))
    else:
        tty = is_terminal(sys.stdout)
        line, name = (inert_line, inert_name) if tty else (_same, _same)
        for row in rows:
            stamp = row.last_activity[:16].replace("T", " ")
            title = f" “{row.title}”" if row.title else ""
            backend = "" if row.on_backend or base is None else " (not on the backend)"
            live = f" [{row.live}]" if row.live else ""
            sys.stdout.write(
                f"{line(stamp)}  {line(row.provider) or '?':6} {row.messages:>5} msgs  "
                f"{name(row.where)}{line(title)}{backend}{line(live)}  {name(row.session_id)}\n"
            )
        if not rows:
            _say("No sessions yet.")
    if more:
        _say(f"Shown: {more}.")
    if problem:
        raise _fail(f"{problem}; shown: this machine's sessions only")


@one_line
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
    session's history (delivery extension), else from this machine's history. A history
    the client had to cut (too long, or paging that went in a loop) is exported as far as it
    goes, with a warning on stderr."""
    base, key, folder = _backend(url, token, data_dir, config)
    conversation = None
    cut = ""
    if base is not None and key is not None:
        try:
            remote = asyncio.run(fetch_history(base, key, session))
        except HistoryError as exc:
            raise _fail(str(exc)) from None
        if remote:
            provider = "codex" if "-codex-" in session else "claude"
            conversation = Conversation(session, from_backend(remote), "", provider, source=base)
            cut = remote.cut
    if conversation is None:
        store = _existing(folder)
        if store is None:
            on_backend = f"not on the backend ({base}), and " if base else ""
            raise _fail(f"session {session} is {on_backend}this machine has no history yet")
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
        sys.stdout.write(for_stream(render(conversation, format), sys.stdout))
    else:
        try:
            write(conversation, format, output)
        except (OSError, ValueError) as exc:  # ValueError: text the file's encoding refuses
            raise _fail(f"cannot write {output}: {exc}") from None
        _say(f"Wrote {len(conversation.messages)} messages from {conversation.source} to {output}.")
    if cut:
        _say(f"warning: incomplete export: {cut}")
