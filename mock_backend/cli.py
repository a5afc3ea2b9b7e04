"""`builderos mock`: run the bundled backend in the foreground until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from mock_backend.config import MockConfig, default_db_path
from mock_backend.faults import FaultError, FaultPlan
from mock_backend.wire import SERVER_VERSION

if TYPE_CHECKING:  # the server (and aiohttp) load when the mock runs, not at every start
    from mock_backend.server import MockBackend

console = Console(highlight=False, soft_wrap=True)


class FeatureSet(StrEnum):
    all = "all"
    no_sync = "no-sync"
    none = "none"


class AgentName(StrEnum):
    simulated = "simulated"
    claude_code = "claude-code"
    codex = "codex"


class ApprovalPolicy(StrEnum):
    ask = "ask"
    allow = "allow"
    deny = "deny"


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


Opt = typer.Option


def mock(
    host: Annotated[str, Opt(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, Opt(min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = 8080,
    token: Annotated[
        str | None,
        Opt(
            envvar="BUILDEROS_TOKEN",
            show_envvar=True,
            help="API token clients must send. Default: a random one, printed once at start.",
        ),
    ] = None,
    db: Annotated[
        Path | None,
        Opt("--db", help="SQLite session database. Default: a file in the user data dir."),
    ] = None,
    claude_md: Annotated[
        Path | None, Opt(help="System context for Jarvis sessions. Default: a bundled sample.")
    ] = None,
    chunk_size: Annotated[int, Opt(min=1, help="Characters per streamed `message` frame.")] = 100,
    chunk_delay: Annotated[float, Opt(min=0, help="Seconds between frames (0 for tests).")] = 0.05,
    bridgehub: Annotated[
        str | None,
        Opt(
            help="Run this BridgeHub-compatible command per message (`COMMAND --request JSON`). "
            "Default: the built-in simulated BridgeHub."
        ),
    ] = None,
    bridgehub_timeout: Annotated[float, Opt(min=0.1, help="Seconds BridgeHub may take.")] = 600,
    agent: Annotated[
        AgentName,
        Opt(
            case_sensitive=False,
            help="What answers: `simulated` (the default; BridgeHub with --bridgehub), "
            "`claude-code` (Claude Code's stream-json) or `codex` (`codex exec --json`).",
        ),
    ] = AgentName.simulated,
    agent_command: Annotated[
        str | None,
        Opt(help="The agent's executable. Default: `claude` or `codex` on the PATH."),
    ] = None,
    workdir: Annotated[
        Path | None,
        Opt(help="Where a real agent works (its CLAUDE.md, the files it edits). Default: here."),
    ] = None,
    approvals: Annotated[
        ApprovalPolicy,
        Opt(
            case_sensitive=False,
            help="When the agent asks to run a tool: `ask` the clients (the first answer "
            "wins), or `allow` / `deny` without asking.",
        ),
    ] = ApprovalPolicy.ask,
    approval_timeout: Annotated[
        float,
        Opt(min=1, help="Seconds a connected client has to answer an approval (then: denied)."),
    ] = 300,
    retention_days: Annotated[
        float, Opt(min=0, help="At start, delete sessions idle for longer than this.")
    ] = 30,
    active_days: Annotated[
        float, Opt(min=0, help="At start, load sessions active within this many days.")
    ] = 7,
    head_timeout: Annotated[
        float,
        Opt(
            min=0.1,
            help="Seconds a client has to send a request's headers; slower ones are closed.",
        ),
    ] = 10.0,
    allow_host: Annotated[
        list[str] | None,
        Opt(
            help="Also answer requests for this host name (repeatable): for a LAN bind, the "
            "names clients use. Other Host headers get 403 (DNS-rebinding protection).",
            show_default=False,
        ),
    ] = None,
    reference_close: Annotated[
        bool,
        Opt(
            help="Answer the close endpoint as the reference server does: 200 for any session "
            "and any token (the seeds promise 404 and 401; `builderos check` reports it)."
        ),
    ] = False,
    features: Annotated[
        FeatureSet,
        Opt(
            case_sensitive=False,
            help="`all`: the delivery extension too (ids, acks, resume, stop, history), the "
            "agent's work and questions, and sync; `no-sync`: all but sync; "
            "`none`: only what the reference server speaks.",
        ),
    ] = FeatureSet.all,
    fault: Annotated[
        list[str] | None,
        Opt(
            help="Inject a fault, NAME=VALUE (repeatable): drop_after_chunks, close_code, "
            "stall, ack_delay, drop_ack, duplicate_frame, reorder_frames, refuse_for, "
            "linger_after_sigterm, random, seed, times. See docs/protocol.md.",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        LogLevel, Opt(case_sensitive=False, help="How much to log on stderr.")
    ] = LogLevel.info,
) -> None:
    """Run the bundled BuilderOS v2 backend (HTTP + WebSocket, SQLite sessions, BridgeHub)."""
    _setup_logging(log_level)
    try:
        plan = FaultPlan.parse(dict(_pair(item) for item in fault or ()))
    except FaultError as exc:
        console.print(f"[red]error:[/] --fault {exc}")
        raise typer.Exit(2) from None
    generated = token is None
    config = MockConfig(
        host=host,
        port=port,
        token=token or secrets.token_urlsafe(24),
        db_path=(db or default_db_path()).expanduser(),
        claude_md_path=claude_md.expanduser() if claude_md else None,
        chunk_size=chunk_size,
        chunk_delay=chunk_delay,
        bridgehub_command=bridgehub,
        bridgehub_timeout=bridgehub_timeout,
        agent=agent.value,
        agent_command=agent_command,
        workdir=(workdir or Path.cwd()).expanduser(),
        approvals=approvals.value,
        approval_timeout=approval_timeout,
        retention_days=retention_days,
        active_days=active_days,
        capsule=str(Path.cwd()),
        allowed_hosts=tuple(name.lower() for name in allow_host or ()),
        head_timeout=head_timeout,
        reference_close=reference_close,
        delivery=features is not FeatureSet.none,
        sync=features is FeatureSet.all,
        faults=plan,
    )
    from mock_backend.server import MockBackend, StartError

    try:
        asyncio.run(_serve(MockBackend(config), show_token=generated))
    except StartError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass
    console.print("Mock backend stopped.")


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep:
        raise FaultError(f"{item!r}: expected NAME=VALUE, e.g. drop_after_chunks=3")
    return name.strip(), value


def _setup_logging(level: LogLevel) -> None:
    err = Console(stderr=True)
    handler: logging.Handler
    if err.is_terminal:
        handler = RichHandler(console=err, show_path=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.value.upper(), handlers=[handler], force=True)


async def _serve(backend: MockBackend, *, show_token: bool) -> None:
    await backend.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        _banner(backend, show_token)
        await stop.wait()
    finally:
        # SIGTERM, not Ctrl-C, gets the reference server's slow shutdown when asked for
        linger = backend.faults.plan.linger_after_sigterm if stop.is_set() else 0.0
        await backend.stop(linger=linger)


def _banner(backend: MockBackend, show_token: bool) -> None:
    cfg = backend.config
    if cfg.agent != "simulated":
        answering = f"{cfg.agent} ({cfg.agent_command or cfg.agent.split('-')[0]}) in {cfg.workdir}"
    else:
        answering = f"BridgeHub {cfg.bridgehub_command}" if cfg.bridgehub_command else "simulated"
    active = len(backend.registry.active)
    lines = [
        f"[bold]BuilderOS mock backend {SERVER_VERSION}[/] (session-persistent)",
        f"Listening on {backend.url}",
        "WebSocket endpoints:",
        f"   {backend.ws_url('claude')} (Jarvis)",
        f"   {backend.ws_url('codex')} (Codex)",
        f"Session database: {cfg.db_path}",
        f"Active sessions: {active} (stored: {backend.stored_session_count()})",
        f"Uploads: {cfg.resolved_uploads_dir()}",
        f"Agent: {answering}; approvals: {cfg.approvals}",
    ]
    if show_token:
        lines.append(
            f"API token: [bold]{cfg.token}[/] (generated; set --token or BUILDEROS_TOKEN to choose)"
        )
    lines.append("Press Ctrl-C to stop.")
    for line in lines:
        console.print(line)
    console.file.flush()
