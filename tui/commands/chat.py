"""`builderos chat` (also a bare `builderos`): the terminal client."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from localdata.private import private_file
from tui.client.protocol import MAX_REPLY_CHARS
from tui.commands.demo_backend import detached_mock
from tui.model.config import ENV_TOKEN, ConfigError, default_config_path, resolve, write_config_file
from tui.store import ChatStore, StoreError, device_id_of
from tui.system import instance_lock
from tui.system.local_backend import BackendDidNotStart, LocalBackend, StartBackend

console = Console(stderr=True, highlight=False)
Opt = typer.Option


def open_store(data_dir: Path) -> ChatStore:
    return ChatStore(data_dir / "history.db")


def in_process_mock(data_dir: Path, chunk_delay: float = 0.02) -> StartBackend:
    """The bundled mock in this process, on a free loopback port, with its database in the
    data dir: for tests of demo mode (the app uses the detached one, tui.commands.demo_backend,
    which outlives it). The one place the client imports the mock backend."""

    async def start() -> LocalBackend:
        from mock_backend import MockBackend, MockConfig, StartError

        backend = MockBackend(
            MockConfig(
                port=0,
                token=secrets.token_urlsafe(16),
                db_path=data_dir / "demo-backend" / "sessions.db",
                chunk_delay=chunk_delay,
            )
        )
        try:
            await backend.start()
        except StartError as exc:
            raise BackendDidNotStart(str(exc)) from None
        return backend

    return start


def chat(
    url: Annotated[
        str | None,
        Opt(help="Backend base URL (env BUILDEROS_URL). None: demo on the bundled mock."),
    ] = None,
    token: Annotated[str | None, Opt(help="API token (env BUILDEROS_TOKEN).")] = None,
    device_id: Annotated[
        str | None, Opt(help="Device id for session ids. Default: generated once, kept.")
    ] = None,
    data_dir: Annotated[
        Path | None, Opt(help="Where tabs and history live. Default: the user data dir.")
    ] = None,
    config: Annotated[
        Path | None, Opt(help=f"Config file. Default: {default_config_path()}")
    ] = None,
    session: Annotated[
        str | None,
        Opt(help="Open this session in a tab (see `builderos sessions`), with its history."),
    ] = None,
    max_reply: Annotated[
        int,
        Opt(
            min=1,
            help="The longest reply kept, in MiB of text; what comes past it is dropped, and "
            "the tab says so.",
        ),
    ] = MAX_REPLY_CHARS // 2**20,
    save: Annotated[
        bool,
        Opt(
            help="Save --url and the token (--token, else env BUILDEROS_TOKEN) to the config "
            "file (mode 0600), then start."
        ),
    ] = False,
) -> None:
    """Chat with Jarvis (Claude Code) and Codex in up to five tabs."""
    from tui.app import ChatApp, ChatSetup  # Textual loads only for the chat

    config_path = config or default_config_path()
    try:
        if save:
            # the token may come from the environment: a command line is readable by every
            # local user (/proc/PID/cmdline), the environment and the 0600 file are not
            saved_token = token or os.environ.get(ENV_TOKEN)
            values = {k: v for k, v in (("url", url), ("token", saved_token)) if v}
            write_config_file(config_path, values)
            console.print(f"Saved {', '.join(values) or 'nothing'} to {config_path} (mode 0600).")
        settings = resolve(
            url=url, token=token, device_id=device_id, data_dir=data_dir, config_path=config_path
        )
        lock = instance_lock.hold(settings.data_dir)  # held until the process ends
        store = open_store(settings.data_dir)
        setup = ChatSetup(
            store=store,
            device_id=device_id_of(store, settings.device_id),
            url=settings.url,
            token=settings.token,
            start_backend=detached_mock(settings.data_dir),
            open_session=session,
            max_reply=max_reply * 2**20,
            freeze_startup_objects=True,
        )
    except (ConfigError, StoreError, OSError, instance_lock.AlreadyRunning) as exc:
        console.print(Text.assemble(("error:", "red"), " ", str(exc)))
        raise typer.Exit(1) from None
    logging.basicConfig(
        filename=private_file(settings.data_dir / "chat.log"),
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = ChatApp(setup)
    app.run()
    lock.close()
    if app.return_code:
        raise typer.Exit(app.return_code)
