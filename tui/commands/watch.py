"""`builderos watch SESSION`: a session's turns as they happen, both sides, until ctrl+c — a
`tail -f` for a conversation (docs/cli.md). It follows the session as any device does (sync,
docs/protocol.md §5) without ever answering for the user: it asks for no approvals.

Text: each turn and reply on stdout (a terminal gets it inert, a pipe as it came), tool calls
and who is there on stderr, as `send` does. `--json`: one object per line on stdout (see
`tui.commands.following.RECORDS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from typing import Annotated, Any, TextIO

import typer

from localdata.private import private_file
from tui.client.activity import ICONS, MARKS
from tui.client.backoff import Backoff
from tui.client.connection import ClientEvent, TabConnection
from tui.client.frames import PROVIDERS, Provider
from tui.client.inert import for_stream, inert_line
from tui.client.sync import this_device_name
from tui.commands.following import Follower
from tui.commands.history import ConfigPath, DataDir, _fail, one_line
from tui.commands.one_shot import REFUSED, TOKEN_FIX
from tui.model.config import ConfigError, resolve
from tui.model.export import agent_name
from tui.store import ChatStore, StoreError, device_id_of

Opt = typer.Option
WANTS = ("activity", "sync")
"""What a watcher asks for: the work and the other devices, never the agent's questions (it
cannot answer them for the user, so their timeout does not run for it)."""


@one_line
def watch(
    session: Annotated[str, typer.Argument(help="The session to follow (`builderos sessions`).")],
    as_json: Annotated[
        bool, Opt("--json", help="One JSON object per line: turn, chunk, activity, end, …")
    ] = False,
    url: Annotated[str | None, Opt(help="Backend base URL (env BUILDEROS_URL).")] = None,
    token: Annotated[str | None, Opt(help="API token (env BUILDEROS_TOKEN).")] = None,
    data_dir: DataDir = None,
    config: ConfigPath = None,
) -> None:
    """Follow a session's turns as they happen, from every device, until ctrl+c."""
    try:
        settings = resolve(url=url, token=token, data_dir=data_dir, config_path=config)
        store = ChatStore(settings.data_dir / "history.db")
        device = device_id_of(store, settings.device_id)
        store.close()
    except (ConfigError, StoreError, OSError) as exc:
        raise _fail(str(exc)) from None
    if settings.url is None:
        raise _fail("no backend: give --url (or set BUILDEROS_URL, or save one with chat --save)")
    provider: Provider = next((p for p in PROVIDERS if f"-{p}-" in session), "claude")
    logging.basicConfig(
        filename=private_file(settings.data_dir / "chat.log"),
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    printer = Printer(agent_name(provider), as_json)
    code = asyncio.run(
        follow(settings.url, settings.token or "", provider, session, device, printer)
    )
    raise typer.Exit(code)


async def follow(
    base_url: str,
    token: str,
    provider: Provider,
    session_id: str,
    device_id: str,
    printer: Printer,
    stop: asyncio.Event | None = None,
) -> int:
    """Follow until ctrl+c or SIGTERM (or `stop` is set): 0; a refused token: REFUSED."""
    events: asyncio.Queue[ClientEvent] = asyncio.Queue()
    connection = TabConnection(
        base_url=base_url,
        token=token,
        provider=provider,
        session_id=session_id,
        device_id=device_id,
        device_name=f"{this_device_name()} (watch)".strip(),
        on_event=events.put_nowait,
        backoff=Backoff(),
        wants=WANTS,
    )
    follower = Follower(session_id)
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if stop is None else ()
    stop = stop or asyncio.Event()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    connection.start()
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            getting = asyncio.create_task(events.get())
            await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                break
            for record in follower.take(getting.result()):
                printer.show(record)
            if follower.refused:
                printer.say(f"error: the token was refused: {TOKEN_FIX}")
                return REFUSED
    finally:
        stopping.cancel()
        for signum in signals:
            loop.remove_signal_handler(signum)
        with contextlib.suppress(Exception):
            await connection.stop()
        printer.done()
    return 0


class Printer:
    """Records on the terminal (or a pipe): text for people, or one JSON object per line."""

    def __init__(
        self,
        agent: str,
        as_json: bool,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.agent = agent
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._open: str | None = None
        """The reply whose text is being written (its header printed)."""

    def show(self, record: dict[str, Any]) -> None:
        if self.as_json:
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.out.flush()
            return
        match record["event"]:
            case "turn":
                self._close()
                who = f"You (on {record['device']})"
                when = str(record["timestamp"])[11:19]
                self._write(f"\n── {inert_line(who)} · {when} ──\n")
                self._write(for_stream(record["text"], self.out).rstrip("\n") + "\n")
                for name in record["attachments"]:
                    self._write(f"📎 {inert_line(name)}\n")
            case "chunk":
                if self._open != record["reply_to"]:
                    self._close()
                    self._write(f"\n── {self.agent} ──\n")
                    self._open = record["reply_to"]
                self._write(for_stream(record["text"], self.out))
            case "end":
                self._close()
                if record["status"] != "complete":
                    detail = f": {record['detail']}" if record["detail"] else ""
                    self.say(f"[the reply ended {record['status']}{detail}]")
            case "activity":
                icon, mark = ICONS.get(record["kind"], "•"), MARKS.get(record["status"], "")
                self.say(f"  {icon} {record['title']}  {mark}")
            case "presence":
                names = ", ".join(d["name"] for d in record["devices"]) or "nobody"
                self.say(f"· on this session now: {names}")
            case "closed":
                self.say(f"· the session was closed by {record['by']}")
            case "state":
                self.say(
                    f"· {record['state']}" + (f": {record['detail']}" if record["detail"] else "")
                )
            case "notice":
                self.say(f"· {record['text']}")

    def say(self, text: str) -> None:
        """A line for the person, on stderr."""
        self.err.write(inert_line(text) + "\n")
        self.err.flush()

    def done(self) -> None:
        self._close()

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def _close(self) -> None:
        """The reply being written ends its line."""
        if self._open is not None:
            self._write("\n")
            self._open = None
