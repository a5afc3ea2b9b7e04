"""A tab's connection against a scripted server that sends what a real one might on a bad day:
half an emoji, a frame nested 1,000 deep, a frame over the client's limit, silence. Nothing
that arrives may end the tab's connection; each gets a clear word; later messages still go."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from harness.timing import scaled
from tests.conftest import TOKEN, BackendFactory, url_of
from tests.functional.tui.recorder import Recorder
from tui.client.backoff import Backoff
from tui.client.connection import MAX_FRAME_BYTES, Notice, TabConnection
from tui.client.protocol import ReplyDone, ReplyInterrupted
from tui.client.state import Phase
from tui.model.workspace import Workspace
from tui.store import ChatStore

READY = json.dumps({"type": "ready", "content": "scripted", "features": {}})
LONE = "\ud83d"
CLOSE = "<close the socket>"

Script = Callable[[str], list[str]]
"""What the server answers to each chat message's content."""


def chunk(text: str) -> str:
    return json.dumps({"type": "message", "content": text})


def complete(count: int = 2) -> str:
    return json.dumps({"type": "complete", "content": "Response complete", "message_count": count})


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Script], str]]:
    """Start a server that authenticates anyone, then answers as the script says; its URL."""
    servers: list[Any] = []

    async def start(script: Script) -> str:
        async def handler(ws: ServerConnection) -> None:
            await ws.recv()
            await ws.send("authenticated")
            await ws.send(READY)
            async for frame in ws:
                for answer in script(json.loads(frame)["content"]):
                    if answer == CLOSE:
                        await ws.close()
                        return
                    await ws.send(answer)

        server = await serve(handler, "127.0.0.1", 0, max_size=None)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()
        await server.wait_closed()


def connection(url: str, rec: Callable[[Any], None], **kwargs: Any) -> TabConnection:
    return TabConnection(
        base_url=url,
        token="t",
        provider="claude",
        session_id="dev-claude-tab",
        device_id="dev",
        on_event=rec,
        backoff=Backoff(base=0.05, cap=0.2),
        **kwargs,
    )


def hostile(content: str) -> list[str]:
    if content == "odd":
        deep = "[" * 1000 + "]" * 1000
        return [chunk("half an emoji: " + LONE), deep, chunk(" and on"), complete()]
    return [chunk(f"echo: {content}"), complete(4)]


async def test_odd_frames_are_stored_cleanly_and_the_tab_keeps_going(
    scripted: Callable[[Script], Any], tmp_path: Path
) -> None:
    url = await scripted(hostile)
    store = ChatStore(tmp_path / "history.db")
    workspace = Workspace(store, base_url=url, token="t", device_id="dev")
    changes: list[Any] = []
    arrived = asyncio.Event()

    def observe(change: Any) -> None:
        changes.append(change)
        arrived.set()

    workspace.observe(observe)
    workspace.restore()
    tab = workspace.selected
    workspace.start()

    async def until(predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(scaled(10)):
            while not predicate():
                arrived.clear()
                await arrived.wait()

    workspace.send(tab.tab_id, "odd")
    await until(lambda: any(m.role == "assistant" for m in tab.messages))
    reply = next(m for m in tab.messages if m.role == "assistant")
    assert reply.text == "half an emoji: \ufffd and on" and reply.status == "complete"
    assert [m.text for m in store.recent(tab.session_id, 10)][-1] == reply.text
    assert any("nested too deeply" in getattr(c, "text", "") for c in changes)

    workspace.send(tab.tab_id, "still there?")
    await until(lambda: sum(m.role == "assistant" for m in tab.messages) == 2)
    assert tab.messages[-1].text == "echo: still there?"
    assert tab.state.phase is Phase.CONNECTED
    await workspace.stop()
    store.close()


async def test_a_frame_over_the_limit_cuts_the_reply_and_says_why(
    scripted: Callable[[Script], Any],
) -> None:
    def too_big(content: str) -> list[str]:
        if content == "big":
            return [chunk("kept part"), chunk("x" * (MAX_FRAME_BYTES + 10))]
        return [chunk("fine"), complete()]

    rec = Recorder()
    conn = connection(await scripted(too_big), rec)
    conn.start()
    await rec.wait_phase(Phase.CONNECTED)
    conn.send("m1", "big")
    cut = await rec.wait_for(lambda e: isinstance(e, ReplyInterrupted))
    assert cut.reply_to == "m1" and cut.partial == "kept part"
    notice = await rec.wait_for(lambda e: isinstance(e, Notice) and "16 MiB" in e.text)
    assert "Reply cut" in notice.text
    mark = len(rec.events)
    await rec.wait_phase(Phase.CONNECTED, after=mark)
    conn.send("m2", "small")
    done = await rec.wait_for(lambda e: isinstance(e, ReplyDone) and e.reply_to == "m2")
    assert done.text == "fine"
    await conn.stop()


async def test_a_server_that_never_answers_the_token_is_named_as_such() -> None:
    async def silent(ws: ServerConnection) -> None:
        await ws.wait_closed()  # takes the connection, never answers the token

    async with serve(silent, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        rec = Recorder()
        conn = connection(f"http://127.0.0.1:{port}", rec, handshake_timeout=0.3)
        conn.start()
        state = (await rec.wait_phase(Phase.NO_ANSWER)).state
        assert "never answered" in state.label(0)
        await conn.stop()


async def test_a_host_name_that_does_not_resolve_is_named_as_such() -> None:
    rec = Recorder()
    conn = connection("http://nothing-here.invalid:8080", rec)
    conn.start()
    state = (await rec.wait_phase(Phase.NOT_FOUND)).state
    assert state.detail == "nothing-here.invalid"
    assert "host name not found" in state.label(0)
    await conn.stop()


async def test_a_bug_where_events_are_handled_is_reported_and_the_socket_goes_on(
    scripted: Callable[[Script], Any],
) -> None:
    rec = Recorder()
    failed_once: list[bool] = []

    def buggy(event: Any) -> None:
        if isinstance(event, ReplyDone) and not failed_once:
            failed_once.append(True)
            raise RuntimeError("a bug in the owner")
        rec(event)

    conn = connection(await scripted(hostile), buggy)
    conn.start()
    await rec.wait_phase(Phase.CONNECTED)
    conn.send("m1", "first")
    notice = await rec.wait_for(lambda e: isinstance(e, Notice) and "a bug in the owner" in e.text)
    assert "ReplyDone" in notice.text
    conn.send("m2", "second")
    done = await rec.wait_for(lambda e: isinstance(e, ReplyDone) and e.reply_to == "m2")
    assert done.text == "echo: second" and conn.state.phase is Phase.CONNECTED
    await conn.stop()


async def test_a_connection_task_that_dies_anyway_is_restarted(
    scripted: Callable[[Script], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def dropping(content: str) -> list[str]:
        return [chunk("part"), CLOSE] if content == "drop" else [chunk("back"), complete()]

    rec = Recorder()
    conn = connection(await scripted(dropping), rec)
    real = conn.backoff.next_delay
    broken: list[bool] = []

    def next_delay() -> float:
        if not broken:
            broken.append(True)
            raise RuntimeError("backoff broke")  # outside every guard: the task dies
        return real()

    monkeypatch.setattr(conn.backoff, "next_delay", next_delay)
    conn.start()
    await rec.wait_phase(Phase.CONNECTED)
    conn.send("m1", "drop")
    await rec.wait_for(lambda e: isinstance(e, ReplyInterrupted))
    notice = await rec.wait_for(lambda e: isinstance(e, Notice) and "backoff broke" in e.text)
    assert "restarting" in notice.text
    mark = len(rec.events)
    await rec.wait_phase(Phase.CONNECTED, after=mark)
    conn.send("m2", "after the restart")
    done = await rec.wait_for(lambda e: isinstance(e, ReplyDone) and e.reply_to == "m2")
    assert done.text == "back"
    await conn.stop()


async def test_quitting_mid_reply_keeps_the_partial_reply_as_interrupted(
    scripted: Callable[[Script], Any], tmp_path: Path
) -> None:
    def stalls(content: str) -> list[str]:
        return [chunk("the first half of an answer")]  # and then nothing: still writing

    url = await scripted(stalls)
    store = ChatStore(tmp_path / "history.db")
    workspace = Workspace(store, base_url=url, token="t", device_id="dev")
    arrived = asyncio.Event()
    workspace.observe(lambda change: arrived.set())
    workspace.restore()
    tab = workspace.selected
    workspace.start()
    workspace.send(tab.tab_id, "a long question")
    async with asyncio.timeout(scaled(10)):
        while tab.live is None:
            arrived.clear()
            await arrived.wait()
    await workspace.stop()  # what quitting does
    stored = store.recent(tab.session_id, 10)
    assert [(m.role, m.text, m.status) for m in stored][-1] == (
        "assistant",
        "the first half of an answer",
        "interrupted",
    )
    store.close()


async def test_a_pending_message_is_delivered_after_a_restart(
    start_backend: BackendFactory, refusing_socket: socket.socket, tmp_path: Path
) -> None:
    url = url_of(refusing_socket)
    store = ChatStore(tmp_path / "history.db")
    first = Workspace(store, base_url=url, token=TOKEN, device_id="dev")
    first.restore()
    first.start()
    typed = first.send(first.selected.tab_id, "typed while down, then quit")
    await first.stop()
    assert store.pending(first.selected.session_id)[0].msg_id == typed.msg_id

    await start_backend(sock=refusing_socket)
    again = Workspace(store, base_url=url, token=TOKEN, device_id="dev")
    arrived = asyncio.Event()
    again.observe(lambda change: arrived.set())
    again.restore()
    tab = again.selected
    again.start()
    async with asyncio.timeout(scaled(10)):
        while not any(m.role == "assistant" for m in tab.messages):
            arrived.clear()
            await arrived.wait()
    assert "typed while down, then quit" in tab.messages[-1].text
    assert store.pending(tab.session_id) == []
    await again.stop()
    store.close()
