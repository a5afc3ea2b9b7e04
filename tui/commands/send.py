"""`builderos send`: one message from a script or a shell, the reply on stdout as it streams."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from localdata.private import private_file
from tui.client.frames import PROVIDERS, Provider
from tui.client.ids import new_id, session_id
from tui.client.inert import for_stream, inert
from tui.commands.chat import bundled_mock, open_store
from tui.commands.history import one_line
from tui.model.config import ConfigError, default_config_path, resolve
from tui.store import StoreError, device_id_of
from tui.system.local_backend import BackendDidNotStart

if TYPE_CHECKING:  # the connection (websockets) loads when a message is sent, not at start
    from tui.commands.one_shot import SendResult

Opt = typer.Option
console = Console(stderr=True, highlight=False)


@one_line
def send(
    text: Annotated[str, typer.Argument(help="The message; - reads it from stdin.")],
    provider: Annotated[
        str, Opt(help="claude (Jarvis) or codex. With --session: taken from the id.")
    ] = "claude",
    session: Annotated[
        str | None,
        Opt(help="Continue this session (printed by an earlier send, or `builderos sessions`)."),
    ] = None,
    attach: Annotated[
        list[Path] | None, Opt(help="A file to send with the message; repeat for more.")
    ] = None,
    as_json: Annotated[
        bool, Opt("--json", help="Print one JSON result at the end instead of the stream.")
    ] = False,
    timeout: Annotated[float, Opt(help="Seconds to wait for the whole reply.", min=1)] = 600.0,
    url: Annotated[
        str | None, Opt(help="Backend base URL (env BUILDEROS_URL). None: the bundled mock.")
    ] = None,
    token: Annotated[str | None, Opt(help="API token (env BUILDEROS_TOKEN).")] = None,
    device_id: Annotated[
        str | None, Opt(help="Device id for the session id. Default: the chat's.")
    ] = None,
    data_dir: Annotated[
        Path | None, Opt(help="Where the device id (and the demo backend) live.")
    ] = None,
    config: Annotated[
        Path | None, Opt(help=f"Config file. Default: {default_config_path()}")
    ] = None,
) -> None:
    """Send one message and print the reply as it streams; exit 0 once it is complete.

    Exit codes: 1 bad settings, 3 backend unreachable, 4 token refused, 5 the reply failed,
    6 interrupted or timed out, 7 a file could not be attached.
    """
    message = sys.stdin.read() if text == "-" else text
    if not message.strip():
        raise _fail("the message is empty (the backend ignores an empty message)")
    chosen = _provider(provider, session)
    try:
        settings = resolve(
            url=url, token=token, device_id=device_id, data_dir=data_dir, config_path=config
        )
        store = open_store(settings.data_dir)
        device = device_id_of(store, settings.device_id)
        store.close()
    except (ConfigError, StoreError, OSError) as exc:
        raise _fail(str(exc)) from None
    logging.basicConfig(  # the bundled mock's log too: stderr is for the user's eyes
        filename=private_file(settings.data_dir / "chat.log"),
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    sid = session or session_id(device, chosen, new_id())
    if session is None:
        sys.stderr.write(f"session: {sid} (continue with --session {sid})\n")

    def stream(chunk: str) -> None:
        if not as_json:  # a terminal gets it inert, a pipe as the agent said it
            sys.stdout.write(for_stream(chunk, sys.stdout))
            sys.stdout.flush()

    from tui.commands.one_shot import SendFailed, send_once

    async def run() -> SendResult:
        backend = None
        base, key = settings.url, settings.token
        if base is None:  # no backend configured: the bundled mock, as `chat` would
            try:
                backend = await bundled_mock(settings.data_dir, chunk_delay=0)()
            except BackendDidNotStart as exc:
                raise SendFailed(1, f"the bundled mock backend did not start: {exc}") from None
            base, key = backend.url, backend.token
        try:
            return await send_once(
                base_url=base,
                token=key or "",
                provider=chosen,
                session_id=sid,
                device_id=device,
                text=message.rstrip("\n"),
                files=list(attach or []),
                on_text=stream,
                reply_within=timeout,
            )
        finally:
            if backend is not None:
                await backend.stop()

    try:
        result = asyncio.run(run())
    except SendFailed as failed:
        if as_json:
            print(
                json.dumps(
                    {
                        "ok": False,
                        "session_id": sid,
                        "error": str(failed),
                        "reply": failed.partial,
                        "exit_code": failed.code,
                    }
                )
            )
        elif failed.partial:
            sys.stdout.write("\n")
        _error(str(failed))
        raise typer.Exit(failed.code) from None
    if as_json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
    elif not result.reply.endswith("\n"):
        sys.stdout.write("\n")


def _provider(given: str, session: str | None) -> Provider:
    if session is not None:
        for name in PROVIDERS:
            if f"-{name}-" in session:
                return name
    for name in PROVIDERS:
        if given == name:
            return name
    raise _fail(f"--provider is claude or codex, not {given!r}")


def _error(message: str) -> None:
    """One line on stderr; it may quote the server, so it is plain text, made inert."""
    console.print(Text.assemble(("error:", "red"), " ", inert(message)), soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    _error(message)
    return typer.Exit(1)
