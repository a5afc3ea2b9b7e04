"""`builderos check --suite resilience`: the promise "nothing typed is lost, nothing runs twice"
through the real app, headless, against the bundled mock misbehaving on purpose.

Each scenario ends with a ledger: every message typed must be stored on the server exactly once
and shown in the app exactly once, and every reply must have ended complete, or visibly
interrupted or stopped. Scenarios that need kill -9 or SIGTERM run the mock as a process
(harness.mock_process); the others use it in-process, with its fault injector. They test the
client, so against a `--url` backend they are skipped.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from harness.driver import RESTART_WAIT, AppRun, blocks, data_dir
from harness.mock_process import MockProcess
from harness.outcome import Failed, Skipped, check
from harness.scenario import ScenarioList
from harness.target import BundledMock, Target
from harness.timing import scaled
from mock_backend.config import MockConfig
from mock_backend.faults import FaultPlan
from mock_backend.server import MockBackend
from tui.model.workspace import MAX_TABS, ChatTab

RESILIENCE = ScenarioList("resilience")
SOURCE = "docs/protocol.md §2: nothing lost, nothing twice"
ENDED = ("complete", "interrupted", "stopped")


@dataclass
class SoakSize:
    """How big the soak is: CI runs the short one, `--soak-messages 1000` the full one."""

    messages: int = 100


SOAK = SoakSize()


def require_bundled(target: Target) -> None:
    if not isinstance(target, BundledMock):
        raise Skipped("tests the client against the bundled mock's faults: not for a --url backend")


@asynccontextmanager
async def in_process(directory: Path, **overrides: object) -> AsyncIterator[MockBackend]:
    """A mock in this process, on a free port, with its own database."""
    config = MockConfig(
        port=0, token="resilience-token", db_path=directory / "sessions.db", chunk_delay=0.01
    )
    backend = MockBackend(replace(config, **overrides))  # type: ignore[arg-type]
    await backend.start()
    try:
        yield backend
    finally:
        await backend.stop()


@asynccontextmanager
async def app_and_mock(**overrides: object) -> AsyncIterator[tuple[AppRun, MockBackend]]:
    """The app, in a data dir of its own, on an in-process mock of its own."""
    async with (
        data_dir() as directory,
        in_process(directory, **overrides) as backend,
        AppRun(directory / "app", backend.url, backend.token) as run,
    ):
        yield run, backend


async def restarted(backend: MockBackend, **overrides: object) -> MockBackend:
    """The same mock stopped and started again on its port and database."""
    config = replace(backend.config, port=backend.port, **overrides)  # type: ignore[arg-type]
    await backend.stop()
    again = MockBackend(config)
    await again.start()
    return again


def stored_user_turns(db: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT content FROM messages WHERE role = 'user'").fetchall()
    counts: dict[str, int] = {}
    for (text,) in rows:
        counts[text] = counts.get(text, 0) + 1
    return counts


def quiet(tabs: list[ChatTab]) -> Callable[[], bool]:
    """Every message answered and every reply ended, in every tab."""

    def done() -> bool:
        for tab in tabs:
            if tab.live is not None or (tab.connection is not None and tab.connection.busy):
                return False
            if any(m.role == "user" and m.status in ("pending", "sent") for m in tab.messages):
                return False
        return True

    return done


def ledger(typed: list[str], tabs: list[ChatTab], server: dict[str, int]) -> str:
    """Check the promise; returns the figure for the report."""
    shown: dict[str, int] = {}
    for tab in tabs:
        for message in tab.messages:
            if message.role == "user":
                shown[message.text] = shown.get(message.text, 0) + 1
    lost = [t for t in typed if server.get(t, 0) == 0]
    twice = [t for t in typed if server.get(t, 0) > 1]
    check(not lost, f"{len(lost)} of {len(typed)} messages never reached the server: {lost[:3]}")
    check(not twice, f"{len(twice)} messages were stored twice: {twice[:3]}")
    off = [t for t in typed if shown.get(t) != 1]
    check(not off, f"{len(off)} messages are not shown exactly once: {off[:3]}")
    unfinished = [
        (m.text[:40], m.status)
        for tab in tabs
        for m in tab.messages
        if m.role == "assistant" and m.status not in ENDED
    ]
    check(not unfinished, f"replies that did not visibly end: {unfinished[:3]}")
    return f"{len(typed)} messages: 0 lost, 0 duplicated"


async def streaming(run: AppRun, ask: str = "/long 1500") -> ChatTab:
    """Ask for a long reply and return once part of it is on screen."""
    await run.connected()
    await run.send(ask)
    tab = run.tab()
    await run.until(lambda: len(tab.live or "") > 300, "the reply to stream")
    return tab


async def sent_every(
    run: AppRun, texts: list[str], every: float, between: Callable[[int], object]
) -> None:
    """Send `texts` one per `every` seconds through the workspace; `between(i)` may act (kill,
    restart) after message i."""
    for index, text in enumerate(texts):
        run.workspace.send(run.tab().tab_id, text)
        result = between(index)
        if asyncio.iscoroutine(result):
            await result
        await asyncio.sleep(every)  # the pace of a person typing: the thing being tested


async def restarts_while_sending(target: Target, how: str, *args: str) -> None:
    require_bundled(target)
    async with data_dir() as directory:
        mock = MockProcess(directory, *args)
        await mock.start()
        try:
            async with AppRun(directory / "app", mock.url, mock.token) as run:
                await run.connected()
                texts = [f"{how} {i:02d}: {directory.name}" for i in range(12)]

                async def between(index: int) -> None:
                    if index % 3 == 2:
                        await (mock.kill() if how == "kill" else mock.terminate())
                        await mock.start()

                await sent_every(run, texts, scaled(1.0) / 2, between)
                await run.until(quiet([run.tab()]), "every message answered", RESTART_WAIT)
                ledger(texts, [run.tab()], mock.user_turns())
        finally:
            await mock.close()


@RESILIENCE.add("kill-9-while-sending", SOURCE)
async def kill_while_sending(target: Target) -> None:
    """kill -9 the backend every third message, typed every half second: none lost or doubled."""
    await restarts_while_sending(target, "kill")


@RESILIENCE.add("sigterm-while-sending", SOURCE)
async def term_while_sending(target: Target) -> None:
    """SIGTERM with a lingering shutdown (sockets held open and silent) every third message."""
    await restarts_while_sending(target, "term", "--fault", "linger_after_sigterm=3")


@RESILIENCE.add("quit-with-pending", SOURCE)
async def quit_with_pending(target: Target) -> None:
    """A message typed while the backend is down, then the app quit: sent once at next start."""
    require_bundled(target)
    async with data_dir() as directory:
        mock = MockProcess(directory)
        text = f"typed while down, then quit ({directory.name})"
        async with AppRun(directory / "app", mock.url, mock.token) as run:
            await run.send(text)
            await run.until(lambda: bool(run.tab().messages), "the message on screen")
        await mock.start()
        try:
            async with AppRun(directory / "app", mock.url, mock.token) as run:
                await run.until(quiet([run.tab()]), "the pending message answered", RESTART_WAIT)
                ledger([text], [run.tab()], mock.user_turns())
        finally:
            await mock.close()


@RESILIENCE.add("app-killed-mid-reply", SOURCE)
async def killed_mid_reply(target: Target) -> None:
    """The app dies mid-reply (its disk as kill -9 leaves it); the next start resumes the reply
    and ends with the server's text, not a character more or less."""
    require_bundled(target)
    async with data_dir() as directory, in_process(directory, chunk_delay=0.02) as backend:
        crashed = directory / "crashed"
        crashed.mkdir()
        async with AppRun(directory / "app", backend.url, backend.token) as run:
            await run.connected()
            await run.send("/long 1500")
            tab = run.tab()
            await run.until(lambda: len(tab.live or "") > 1500, "the reply to stream")
            await asyncio.sleep(scaled(0.6))  # past one batched save: what a crash would keep
            source = sqlite3.connect(directory / "app" / "history.db")
            with closing(source), closing(sqlite3.connect(crashed / "history.db")) as image:
                source.backup(image)  # the committed state, exactly what kill -9 leaves
            session = tab.session_id
        with closing(sqlite3.connect(crashed / "history.db")) as image:
            saved = image.execute(
                "SELECT length(text) FROM messages WHERE status = 'replying'"
            ).fetchall()
        check(saved and saved[0][0] > 0, "no partial reply was saved while it streamed")
        async with AppRun(crashed, backend.url, backend.token) as run:
            tab = run.tab()
            check(tab.session_id == session, "the restarted app shows another session")
            await run.until(
                lambda: [m.status for m in tab.messages if m.role == "assistant"] == ["complete"],
                "the reply resumed to its end",
                RESTART_WAIT,
            )
            server = backend.registry.store.all_messages(session)[-1].content
            reply = next(m for m in tab.messages if m.role == "assistant")
            check(
                reply.text == server,
                f"the resumed reply differs from the server's "
                f"({len(reply.text)} vs {len(server)} characters)",
            )


@RESILIENCE.add("dropped-mid-reply-resumes", SOURCE)
async def drop_and_resume(target: Target) -> None:
    """The socket drops three times mid-reply and duplicated, reordered frames come: the reply
    resumes, identical to the server's, no chunk twice."""
    require_bundled(target)
    faults = FaultPlan(drop_after_chunks=4, times=3)
    async with app_and_mock(faults=faults) as (run, backend):
        await run.connected()
        await run.send("/long 600")
        await run.until(quiet([run.tab()]), "the reply", RESTART_WAIT)
        check(backend.faults.fired.get("drop") == 3, f"faults fired: {backend.faults.fired}")
        backend.faults.set(FaultPlan(duplicate_frame=True, reorder_frames=True))
        await run.send("/long 300")
        await run.until(quiet([run.tab()]), "the second reply", RESTART_WAIT)
        tab = run.tab()
        stored = [
            m.content
            for m in backend.registry.store.all_messages(tab.session_id)
            if m.role == "assistant"
        ]
        shown = [m.text for m in tab.messages if m.role == "assistant"]
        check(shown == stored, "the replies shown differ from the server's")


@RESILIENCE.add("half-open-socket", SOURCE)
async def half_open(target: Target) -> None:
    """The server holds the socket open and answers nothing, not even pings: the tab finds out
    within seconds, and the message arrives once the server is back."""
    require_bundled(target)
    async with app_and_mock() as (run, backend):
        await run.connected()
        for chat_socket in backend.sockets.values():
            chat_socket.freeze()
        text = "sent into a silent socket"
        await run.send(text)
        await run.dropped()
        backend = await restarted(backend)
        try:
            await run.until(quiet([run.tab()]), "the message answered", RESTART_WAIT)
            ledger([text], [run.tab()], stored_user_turns(backend.config.db_path))
        finally:
            await backend.stop()


@RESILIENCE.add("stop-a-reply", SOURCE)
async def stop_reply(target: Target) -> None:
    """Esc stops the reply: stopped on screen and on the server, with the same partial text."""
    require_bundled(target)
    async with app_and_mock(chunk_delay=0.02) as (run, backend):
        tab = await streaming(run)
        await run.pilot.press("escape")
        await run.until(quiet([tab]), "the reply to stop")
        reply = [m for m in tab.messages if m.role == "assistant"][-1]
        check(reply.status == "stopped", f"the reply ended as {reply.status}")
        stored = backend.registry.store.all_messages(tab.session_id)[-1]
        meta = stored.metadata or {}
        check(meta.get("status") == "stopped", f"the server stored it as {meta}")
        check(
            reply.text == stored.content[: meta.get("delivered_chars", 0)],
            "the stopped reply differs from what the server sent",
        )


@RESILIENCE.add("retry-an-interrupted-reply", SOURCE)
async def retry(target: Target) -> None:
    """A server restart cuts a reply (interrupted); ctrl+r asks again and the answer completes."""
    require_bundled(target)
    async with app_and_mock(chunk_delay=0.02) as (run, backend):
        tab = await streaming(run)
        backend = await restarted(backend)
        try:
            await run.until(quiet([tab]), "the cut reply to end", RESTART_WAIT)
            last = [m for m in tab.messages if m.role == "assistant"][-1]
            check(last.status == "interrupted", f"the cut reply ended as {last.status}")
            await run.pilot.press("ctrl+r")
            await run.until(
                lambda: [m.status for m in tab.messages if m.role == "assistant"][-1] == "complete",
                "the retried reply",
                RESTART_WAIT,
            )
        finally:
            await backend.stop()


@RESILIENCE.add("no-features-not-confirmed", SOURCE)
async def no_features(target: Target) -> None:
    """Against a server without the extension (`--features none`), a message lost in a dead
    socket is marked not confirmed, never sent; ctrl+r delivers it, once."""
    require_bundled(target)
    async with app_and_mock(delivery=False) as (run, backend):
        await run.connected()
        for chat_socket in backend.sockets.values():
            chat_socket.freeze()
        text = "did this arrive?"
        await run.send(text)
        tab = run.tab()
        await run.until(
            lambda: any(m.status == "not_confirmed" for m in tab.messages),
            "the message to be marked not confirmed",
            RESTART_WAIT,
        )
        await run.app.settled()
        marker = [b for b in blocks(run.app) if b.message and b.message.text == text]
        check(
            marker and str(marker[0].subtitle).startswith("not confirmed"),
            "the screen does not say the message is not confirmed",
        )
        backend = await restarted(backend)
        try:
            await run.connected(limit=RESTART_WAIT)
            await run.pilot.press("ctrl+r")
            await run.until(quiet([tab]), "the resent message answered", RESTART_WAIT)
            ledger([text], [tab], stored_user_turns(backend.config.db_path))
        finally:
            await backend.stop()


@RESILIENCE.add("soak", SOURCE, limit=scaled(1200))
async def soak(target: Target) -> str:
    """Messages across five tabs through random faults (drops, duplicates, reorders, lost and
    late acks, stalls) and kill -9 restarts: 0 lost, 0 duplicated, every reply ended."""
    require_bundled(target)
    count = SOAK.messages
    async with data_dir() as directory:
        mock = MockProcess(directory, "--fault", "random=0.1", "--fault", "seed=10")
        await mock.start()
        try:
            async with AppRun(directory / "app", mock.url, mock.token) as run:
                await run.connected()
                for _ in range(MAX_TABS - 1):
                    await run.new_tab("claude")
                tabs = list(run.workspace.tabs)
                texts = [f"soak {i:04d}" for i in range(count)]
                faults = 0
                for index, text in enumerate(texts):
                    run.workspace.send(tabs[index % len(tabs)].tab_id, text)
                    if index and index % max(count // 4, 1) == 0:
                        faults += await faults_fired(mock) + 1  # and the kill itself
                        await mock.kill()
                        await mock.start()
                    await asyncio.sleep(0.01)  # a burst, not a flood: the pace under test
                await run.until(quiet(tabs), "every message answered", scaled(900))
                faults += await faults_fired(mock)
                figure = ledger(texts, tabs, mock.user_turns())
                check(faults >= count // 10, f"only {faults} faults fired for {count} messages")
                return f"{figure}, through {faults} faults"
        finally:
            await mock.close()


FAULTS_LIMIT = scaled(5.0)
"""Seconds asking the mock for its fault count may take, the whole answer included."""


async def faults_fired(mock: MockProcess) -> int:
    url = mock.url + "/api/admin/faults"
    try:
        async with asyncio.timeout(FAULTS_LIMIT), httpx.AsyncClient(timeout=FAULTS_LIMIT) as http:
            answer = await http.get(url, headers={"X-API-Key": mock.token})
    except TimeoutError:
        raise Failed(f"GET {url}: no complete answer within {FAULTS_LIMIT:g} s") from None
    except httpx.HTTPError as exc:
        raise Failed(f"GET {url}: no answer ({exc.__class__.__name__})") from None
    try:
        return sum(answer.json().get("fired", {}).values())
    except (ValueError, AttributeError, TypeError):
        raise Failed(f"GET {url} answered {answer.status_code} {answer.text[:200]}") from None
