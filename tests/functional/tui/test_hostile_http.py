"""The HTTP side against real servers on loopback that misbehave on purpose (docs/safety.md): ids
that walk out of their path, answers that trickle a byte at a time, pages and lists far past
what was asked, text that would act on a terminal. Nothing hangs, nothing crashes, every CLI
failure is one line, and a terminal only ever gets inert text."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from typer.testing import CliRunner

import harness.target
import tui.client.history
from builderos.cli import app
from harness.outcome import Failed
from harness.target import RemoteBackend
from harness.timing import scaled
from tui.client.history import HistoryError, Limits, fetch_history, list_sessions
from tui.client.http import close_session
from tui.client.uploads import UploadError, upload
from tui.store import ChatStore, StoredMessage, TabRow

runner = CliRunner()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEADLINE = scaled(1.0)
ESC_TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start an aiohttp server on an ephemeral loopback port that answers every path with
    `handler`; its URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        application = web.Application()
        application.router.add_route("*", "/{tail:.*}", handler)
        server = web.AppRunner(application, access_log=None)
        await server.setup()
        await web.TCPSite(server, "127.0.0.1", 0).start()
        runners.append(server)
        host, port = server.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for server in runners:
        await server.cleanup()


class Trickle:
    """A raw HTTP server that answers one byte every `pace` seconds, for ever: the status line
    itself (`head`), or the body after a prompt head. Each byte restarts httpx's own timeout."""

    def __init__(self, head: bool = False, pace: float = 0.1) -> None:
        self.head = head
        self.pace = pace
        self.tasks: set[asyncio.Task[Any]] = set()
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            lines = head.split("\r\n")
            sizes = [int(line[15:]) for line in lines if line.startswith("content-length:")]
            await reader.readexactly(sizes[0] if sizes else 0)
            answer = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9999\r\n\r\n"
            )
            if not self.head:
                writer.write(answer)
                answer = b"{" + b" " * 9_990
            for byte in answer:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(self.pace)  # the misbehaviour under test, not a wait
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def history_dir(
    tmp_path: Path, title: str = "Reviews", text: str = "What is the code word?"
) -> Path:
    store = ChatStore(tmp_path / "history.db")
    store.add_tab(TabRow("t1", 0, "claude", title, "DEV-claude-t1", ""), "2026", "demo")
    store.save(
        "DEV-claude-t1", StoredMessage("a", "user", text, "acknowledged", "2026-11-22T10:00")
    )
    store.close()
    return tmp_path


def backend_args(url: str, data: Path) -> list[str]:
    return [
        "--url",
        url,
        "--token",
        "t",
        "--data-dir",
        str(data),
        "--config",
        str(data / "no.json"),
    ]


def exited(result: Any) -> bool:
    """The command ended by its own exit code, not by an exception it let out."""
    return result.exception is None or isinstance(result.exception, SystemExit)


def one_line_error(result: Any) -> str:
    assert result.exit_code == 1 and exited(result), (result.output, result.exception)
    error = result.stderr.strip()
    assert error.startswith("error: ") and "\n" not in error, result.stderr
    return str(error)


async def test_an_id_reaches_the_server_as_one_path_segment(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    """Before: `../../canary/walked?x=` made the client GET /canary/walked with its key."""
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.raw_path.split("?")[0])
        return web.json_response({"messages": [], "next_before": None})

    url = await serve(record)
    for session_id in ("../../canary/walked?x=", "..", "a\x1bb"):
        assert await fetch_history(url, "t", session_id) == []
    await close_session(url, "t", "claude", "../../canary/walked?x=")
    assert seen == [
        "/api/sessions/..%2F..%2Fcanary%2Fwalked%3Fx%3D/messages",
        "/api/sessions/%2E%2E/messages",
        "/api/sessions/a%1Bb/messages",
        "/api/claude/session/..%2F..%2Fcanary%2Fwalked%3Fx%3D/close",
    ]


async def test_an_answer_trickling_a_byte_at_a_time_meets_a_total_deadline() -> None:
    """Before: each byte restarted httpx's timeout, and `builderos sessions` hung for ever."""
    limits = Limits(deadline=DEADLINE)
    async with Trickle() as url, asyncio.timeout(scaled(20)):
        started = time.monotonic()
        with pytest.raises(HistoryError, match=rf"{url}/api/sessions: no complete answer within"):
            await list_sessions(url, limits=limits)
        with pytest.raises(HistoryError, match=r"/api/sessions/s%20x/messages: no complete"):
            await fetch_history(url, "t", "s x", limits=limits)
        assert time.monotonic() - started < 2 * DEADLINE + scaled(2)
    async with Trickle(head=True) as url, asyncio.timeout(scaled(20)):
        closed = await close_session(url, "t", "claude", "s", wait=DEADLINE)
        assert not closed.closed and f"within {DEADLINE:g} s" in closed.message


async def test_the_contract_suites_client_meets_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: `builderos check` against a trickling backend never ended."""
    monkeypatch.setattr(harness.target, "REQUEST_LIMIT", DEADLINE)
    async with Trickle() as url, asyncio.timeout(scaled(20)):
        target = RemoteBackend(url, "t", None)
        try:
            with pytest.raises(Failed, match=rf"GET {url}/api/status: no complete answer within"):
                await target.features()
        finally:
            await target.close()
    async with Trickle(head=True) as url, asyncio.timeout(scaled(20)):
        target = RemoteBackend(url, "t", None)
        try:
            with pytest.raises(Failed, match="did not answer /api/health"):
                await target.wait_healthy(DEADLINE)
        finally:
            await target.close()


async def test_an_upload_is_bounded_by_its_stalls_not_by_its_length(
    serve: Callable[[Handler], Awaitable[str]], tmp_path: Path
) -> None:
    """A large upload to a slow reader goes through although it takes longer than the stall
    limit; an answer trickled after the upload fails within it (before: it hung)."""
    stall = scaled(2.0)

    async def slow_reader(request: web.Request) -> web.Response:
        got = 0
        while chunk := await request.content.read(256 * 1024):
            got += len(chunk)
            await asyncio.sleep(0.05)  # a slow link: about 5 MB/s
        url = f"http://{request.host}/uploads/big.bin"
        return web.json_response({"ok": True, "url": url, "filename": "big.bin", "size": got})

    url = await serve(slow_reader)
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        out.truncate(16 * 1024 * 1024)
    started = time.monotonic()
    attached = await upload(url, "t", big, wait=stall)
    took = time.monotonic() - started
    assert attached.size > 16_000_000 and took > stall, f"{took:.1f} s: not slow enough to prove"
    small = tmp_path / "notes.txt"
    small.write_text("hello")
    async with Trickle() as trickling, asyncio.timeout(scaled(20)):
        with pytest.raises(UploadError, match=f"made no progress for {DEADLINE:g} s"):
            await upload(trickling, "t", small, wait=DEADLINE)


async def test_a_page_over_the_byte_cap_is_refused(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    """Before: any page was read whole (one page of a million messages took 2.7 GB)."""
    content = "x" * (1024 * 1024)
    messages = [{"number": n, "role": "user", "content": content} for n in range(1, 35)]
    body = json.dumps({"messages": messages, "next_before": None}).encode()

    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    url = await serve(huge)
    with pytest.raises(HistoryError, match="a page of history is over 32 MiB"):
        await fetch_history(url, "t", "s")


def sessions_body(count: int) -> bytes:
    entries = [
        {
            "session_id": f"dev-claude-{n:06d}",
            "agent_type": "claude",
            "device_id": "PHONE",
            "message_count": 2,
            "created_at": "2026-01-01T00:00:00",
            "last_activity": f"2026-01-01T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}",
        }
        for n in range(count)
    ]
    return json.dumps({"total": count, "sessions": entries}).encode()


async def test_200000_sessions_are_capped_with_the_count_of_the_rest(
    serve: Callable[[Handler], Awaitable[str]], tmp_path: Path
) -> None:
    """Before: F4 took 24 s and 763 MB over 200,000 sessions."""
    body = sessions_body(200_000)

    async def sessions(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    url = await serve(sessions)
    listing = await list_sessions(url)
    assert len(listing) == 2_000 and listing.not_shown == 198_000
    assert listing.note == "198,000 more not shown"
    assert listing[0].session_id == "dev-claude-199999"
    assert listing[-1].session_id == "dev-claude-198000"
    data = history_dir(tmp_path)
    result = await asyncio.to_thread(
        runner.invoke, app, ["sessions", "--json", *backend_args(url, data)]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and len(rows) == 2_001
    assert "198,000 more not shown" in result.stderr
    text = await asyncio.to_thread(runner.invoke, app, ["sessions", *backend_args(url, data)])
    assert text.exit_code == 0 and len(text.stdout.splitlines()) == 2_001
    assert text.stderr.strip() == (
        "Shown: the backend's 2,000 most recent sessions; 198,000 more not shown."
    )


async def test_every_cli_failure_on_odd_data_is_one_line(
    serve: Callable[[Handler], Awaitable[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: rich read `[/bold]` in a server's text as markup and raised, text UTF-8
    cannot hold raised on writing, and a trickling backend hung `builderos sessions`."""
    pages = {
        "odd": {"messages": [{"number": 1, "content": 5, "note": "[/bold]"}], "next_before": None},
        "half": {
            "messages": [
                {"number": 1, "content": "half \ud83d", "metadata": {"message_id": "\ud83d"}}
            ],
            "next_before": None,
        },
    }

    async def history(request: web.Request) -> web.Response:
        session_id = request.match_info["tail"].split("/")[2]
        return web.Response(text=json.dumps(pages[session_id]), content_type="application/json")

    url = await serve(history)
    data = history_dir(tmp_path, title="[/bold] notes")
    args = backend_args(url, data)

    odd = await asyncio.to_thread(runner.invoke, app, ["export", "--session", "odd", *args])
    assert "a message without text content" in one_line_error(odd) and "[/bold]" in odd.stderr

    out = tmp_path / "half.json"
    to_file = ["export", "--session", "half", "--format", "json", "-o", str(out)]
    half = await asyncio.to_thread(runner.invoke, app, [*to_file, *args])
    assert half.exit_code == 0, half.output
    assert "half \ufffd" in out.read_text(encoding="utf-8")

    found = runner.invoke(app, ["search", "code", "--data-dir", str(data)])
    assert found.exit_code == 0 and "[/bold] notes (tab open)" in found.stdout, found.output
    missing = runner.invoke(app, ["search", "[/]", "--data-dir", str(data)])
    assert missing.exit_code == 1 and exited(missing), missing.exception
    assert "No message contains “[/]”." in missing.stderr

    monkeypatch.setattr(tui.client.history, "LIMITS", Limits(deadline=DEADLINE))
    async with Trickle() as trickling:
        hung = await asyncio.wait_for(
            asyncio.to_thread(runner.invoke, app, ["sessions", *backend_args(trickling, data)]),
            scaled(20),
        )
    error = one_line_error(hung)
    assert f"no complete answer within {DEADLINE:g} s" in error and "DEV-claude-t1" in hung.stdout


async def run_cli(args: list[str], terminal: bool) -> tuple[bytes, str]:
    """Run `builderos` with its stdout on a terminal (a pty) or a pipe; stdout, stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUILDEROS_")}
    env["COLUMNS"] = "200"
    command = [sys.executable, "-m", "builderos", *args]
    if not terminal:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
        )
        out, err = await process.communicate()
        return out, err.decode()
    master, slave = pty.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=slave, stderr=asyncio.subprocess.PIPE, env=env
        )
    finally:
        os.close(slave)

    def read_all() -> bytes:
        got = bytearray()
        with contextlib.suppress(OSError):  # EIO: the process closed the terminal
            while chunk := os.read(master, 65536):
                got += chunk
        return bytes(got)

    try:
        out, (_, err) = await asyncio.gather(asyncio.to_thread(read_all), process.communicate())
    finally:
        os.close(master)
    return out, err.decode()


async def test_a_terminal_gets_inert_text_and_a_pipe_gets_it_as_sent(
    serve: Callable[[Handler], Awaitable[str]], tmp_path: Path
) -> None:
    """Before: an id or a reply holding `ESC ]0;…` retitled the terminal, `ESC [2J` cleared
    it, as `builderos sessions` and `builderos export` printed them."""
    hostile_id = f"PHONE-claude-{ESC_TITLE}x"
    entry = {"session_id": hostile_id, "device_id": f"PHONE{CLEAR}", "last_activity": "2026"}
    sessions = {"sessions": [entry]}
    reply = {"number": 1, "role": "assistant", "content": f"wipe{CLEAR}\nnext"}
    page = {"messages": [reply], "next_before": None}

    async def answer(request: web.Request) -> web.Response:
        body = sessions if request.path == "/api/sessions" else page
        return web.Response(text=json.dumps(body), content_type="application/json")

    url = await serve(answer)
    args = backend_args(url, history_dir(tmp_path))
    export = ["export", "--session", "PHONE-claude-1", *args]
    async with asyncio.timeout(scaled(60)):
        shown, _ = await run_cli(["sessions", *args], terminal=True)
        piped, _ = await run_cli(["sessions", *args], terminal=False)
        shown_md, _ = await run_cli(export, terminal=True)
        piped_md, _ = await run_cli(export, terminal=False)
    listed = shown.decode()
    assert "\x1b" not in listed and "\x07" not in listed, repr(listed)
    assert "PHONE-claude-␛]0;pwned␇x" in listed and "device PHONE␛[2J" in listed
    assert hostile_id.encode() in piped and f"device PHONE{CLEAR}".encode() in piped
    assert b"\x1b" not in shown_md and "wipe␛[2J\r\nnext".encode() in shown_md, shown_md
    assert f"wipe{CLEAR}\nnext".encode() in piped_md
