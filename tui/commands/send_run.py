"""`builderos send` itself: `run` is the whole command (the reply on stdout as it streams,
errors as one line, an exit code), and `main` reads a plain command line without Typer.

`builderos send` is started by scripts, over and over, and Typer's parsing (it loads pydantic)
cost more than the message took to send. So a command line of the plain shapes (`--url U
"hello"`) is read here (`command_line`), and everything else (`--help`, anything odd) goes to
Typer, whose face of the command is `tui.commands.send`. The two readings are kept the same by
tests: every option is known to both, and they read the same command lines alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localdata.private import private_file
from tui.client.activity import ICONS, MARKS, ActivityItem, Approval
from tui.client.frames import PROVIDERS, Provider
from tui.client.ids import new_id, session_id
from tui.client.inert import for_stream, inert, inert_line
from tui.commands.one_shot import Decide, SendFailed, SendResult, send_once
from tui.model.config import ConfigError, resolve
from tui.store import ChatStore, StoreError, device_id_of
from tui.system.local_backend import BackendDidNotStart, StartBackend


def run(
    text: str,
    *,
    demo: Callable[[Path], StartBackend],
    provider: str = "claude",
    session: str | None = None,
    attach: list[Path] | None = None,
    as_json: bool = False,
    timeout: float = 600.0,
    url: str | None = None,
    token: str | None = None,
    device_id: str | None = None,
    data_dir: Path | None = None,
    config: Path | None = None,
    approve: str = "ask",
) -> int:
    """`builderos send` (its options and defaults are those of `tui.commands.send.send`): the
    reply on stdout, errors as one line on stderr; returns the exit code. `demo(data_dir)`
    starts the bundled mock when no backend is configured."""
    message = sys.stdin.read() if text == "-" else text
    if not message.strip():
        return _failed("the message is empty (the backend ignores an empty message)")
    chosen = _provider(provider, session)
    if chosen is None:
        return _failed(f"--provider is claude or codex, not {provider!r}")
    try:
        settings = resolve(
            url=url, token=token, device_id=device_id, data_dir=data_dir, config_path=config
        )
        store = ChatStore(settings.data_dir / "history.db")
        device = device_id_of(store, settings.device_id)
        store.close()
    except (ConfigError, StoreError, OSError) as exc:
        return _failed(str(exc))
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

    shown: dict[str, str] = {}

    def work(item: ActivityItem) -> None:
        """Each tool call on stderr, once per status, while the reply streams to stdout."""
        if shown.get(item.id) != item.status:
            shown[item.id] = item.status
            sys.stderr.write(f"{work_line(item)}\n")
            sys.stderr.flush()

    async def exchange() -> SendResult:
        backend = None
        base, key = settings.url, settings.token
        if base is None:  # no backend configured: the bundled mock, as `chat` would
            try:
                backend = await demo(settings.data_dir)()
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
                on_work=work,
                decide=deciding(approve),
                reply_within=timeout,
            )
        finally:
            if backend is not None:
                await backend.stop()

    try:
        result = asyncio.run(exchange())
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
        return failed.code
    if as_json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
    elif not result.reply.endswith("\n"):
        sys.stdout.write("\n")
    return 0


def work_line(item: ActivityItem) -> str:
    """A tool call as one line of plain text: `$ Run pytest -q  ✓ · 2.8 s`."""
    return f"{ICONS.get(item.kind, '•')} {inert_line(item.title)}  {MARKS[item.status]}{item.took}"


APPROVE = ("ask", "always", "never")
"""`--approve`: ask on the terminal, allow every tool call once, or deny them all."""
ANSWERS = {"y": "allow_once", "a": "allow_session", "n": "deny", "": "deny"}


def deciding(policy: str) -> Decide:
    """How `send` answers the agent's questions (`--approve`)."""

    async def decide(approval: Approval) -> str:
        said = work_line(approval.item)
        if policy == "always":
            sys.stderr.write(f"allowed (--approve always): {said}\n")
            return "allow_once"
        if policy == "never" or not sys.stdin.isatty():
            why = "--approve never" if policy == "never" else "no terminal to ask on"
            sys.stderr.write(f"denied ({why}): {said}\n")
            return "deny"
        while True:
            sys.stderr.write(
                f"the agent asks: {said}\n  allow? [y]es once, [a]ll this session, [n]o: "
            )
            sys.stderr.flush()
            try:
                answer = (await asyncio.to_thread(sys.stdin.readline)).strip().lower()
            except (OSError, ValueError):
                answer = "n"
            if answer[:1] in ANSWERS:
                return ANSWERS[answer[:1]]

    return decide


def _provider(given: str, session: str | None) -> Provider | None:
    if session is not None:
        for name in PROVIDERS:
            if f"-{name}-" in session:
                return name
    for name in PROVIDERS:
        if given == name:
            return name
    return None


def _error(message: str, shown: Callable[[str], str] = inert) -> None:
    """One line on stderr; it may quote the server, so it is plain text, made inert. (Rich
    loads only when there is an error to show.)"""
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, highlight=False)
    console.print(Text.assemble(("error:", "red"), " ", shown(message)), soft_wrap=True)


def _failed(message: str) -> int:
    _error(message)
    return 1


def main(args: list[str], demo: Callable[[Path], StartBackend]) -> int | None:
    """`builderos send ARGS` without Typer: the exit code, or None for a command line left to
    Typer (see `command_line`). Unforeseen failures end as `send`'s do under Typer
    (`tui.commands.history.one_line`): one `error:` line and exit 1, never a traceback."""
    options = command_line(args)
    if options is None:
        return None
    try:
        return run(demo=demo, **options)
    except Exception as exc:
        _error(f"{exc.__class__.__name__}: {exc}", inert_line)
        return 1


TAKES_VALUE = {
    "--provider": "provider",
    "--session": "session",
    "--attach": "attach",
    "--timeout": "timeout",
    "--url": "url",
    "--token": "token",
    "--device-id": "device_id",
    "--data-dir": "data_dir",
    "--config": "config",
    "--approve": "approve",
}
"""`send`'s options that take a value (`--attach` may repeat), each with its parameter; with
`--json` (a flag), every option of `tui.commands.send.send`."""
_PATHS = {"attach", "data_dir", "config"}


def command_line(args: list[str]) -> dict[str, Any] | None:
    """The arguments of `builderos send ARGS` as Typer hands them to `send`, for a command line
    of the plain shapes: one message (`-`: stdin), `--name value` or `--name=value` once each
    (`--attach` as often as wanted), `--json`. None for anything else, which Typer reads with
    its own help and errors: `--help`, an unknown or repeated option, a missing value, `--`,
    a value that starts with `-`, a `--timeout` other than plain digits of at least 1, a path
    that exists but cannot be read."""
    options: dict[str, Any] = {}
    texts = []
    given = iter(args)
    for arg in given:
        if arg == "-" or not arg.startswith("-"):
            texts.append(arg)
            continue
        name, equals, inline = arg.partition("=")
        if name == "--json" and not equals and "as_json" not in options:
            options["as_json"] = True
            continue
        key = TAKES_VALUE.get(name)
        if key is None or (key in options and key != "attach"):
            return None
        value = inline if equals else next(given, None)
        if value is None or (not equals and value.startswith("-") and value != "-"):
            return None
        parsed: Any = value
        if key == "timeout":
            parsed = _seconds(value)
        elif key in _PATHS:
            parsed = _readable(value)
        elif key == "approve" and value not in APPROVE:
            parsed = None  # Typer says what the choices are
        if parsed is None:
            return None
        if key == "attach":
            options.setdefault(key, []).append(parsed)
        else:
            options[key] = parsed
    if len(texts) != 1:
        return None
    return {"text": texts[0], **options}


def _seconds(text: str) -> float | None:
    """A plain number of at least 1 (`600`, `2.5`), as Typer reads `--timeout`; None for any
    other spelling, left to Typer."""
    whole, point, part = text.partition(".")
    digits = whole + part
    if not (0 < len(digits) <= 15 and digits.isascii() and digits.isdigit() and whole):
        return None
    if point and not part:
        return None
    seconds = float(text)
    return seconds if seconds >= 1 else None


def _readable(text: str) -> Path | None:
    """A path as Typer reads one: None (left to Typer, which refuses it) when it exists and
    cannot be read."""
    path = Path(text)
    try:
        path.stat()
    except OSError:
        return path
    except ValueError:  # a NUL in the name, which Typer refuses
        return None
    return path if os.access(path, os.R_OK) else None
