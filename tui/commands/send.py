"""`builderos send`: one message from a script or a shell, the reply on stdout as it streams.

Typer reads this command's options for `--help` and for a command line out of the ordinary;
a plain one (`builderos send --url U "hello"`) is read by `tui.commands.send_run.command_line`
without loading Typer, so an option added or changed here is added or changed there too.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tui.commands.demo_backend import detached_mock
from tui.commands.history import one_line
from tui.model.config import default_config_path
from tui.system.local_backend import StartBackend

Opt = typer.Option


class Approve(StrEnum):
    ask = "ask"
    always = "always"
    never = "never"


def demo_backend(data_dir: Path) -> StartBackend:
    """With no backend configured: the demo's backend, the one `chat` uses."""
    return detached_mock(data_dir)


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
    approve: Annotated[
        Approve,
        Opt(
            case_sensitive=False,
            help="When the agent asks to run a tool: `ask` on the terminal (no terminal: "
            "deny), `always` allow, `never` deny.",
        ),
    ] = Approve.ask,
) -> None:
    """Send one message and print the reply as it streams; exit 0 once it is complete.

    Exit codes: 1 bad settings, 3 backend unreachable, 4 token refused, 5 the reply failed,
    6 interrupted or timed out, 7 a file could not be attached.
    """
    from tui.commands.send_run import run  # the connection (websockets) loads when it runs

    code = run(
        text,
        demo=demo_backend,
        provider=provider,
        session=session,
        attach=attach,
        as_json=as_json,
        timeout=timeout,
        url=url,
        token=token,
        device_id=device_id,
        data_dir=data_dir,
        config=config,
        approve=approve.value,
    )
    if code:
        raise typer.Exit(code)
