"""A tab against a server that lies about numbers, ids and sessions, floods, flaps or
redirects: every reply that came is stored once, nothing invented is stored, every case ends in
a notice within seconds, and the token never leaves for another host (docs/safety.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from harness.timing import scaled
from tui.client.backoff import Backoff
from tui.client.connection import Notice, TabConnection
from tui.client.state import Phase
from tui.model.workspace import ChatTab, TabNotice, Workspace
from tui.store import ChatStore

FEATURES = {"message_ids": True, "resume": True}
SCRIPT: web.AppKey[Script] = web.AppKey("script")
Answer = Callable[[dict[str, Any]], list[dict[str, Any] | str]]


@dataclass
class Script:
    """What the server does: frames after ready, and frames answering each chat frame."""

    answer: Answer = lambda frame: []
    on_open: list[dict[str, Any] | str] = field(default_factory=list)
    features: dict[str, bool] = field(default_factory=lambda: dict(FEATURES))
    close_after_ready: bool = False
    sockets: int = 0
    frames: list[str] = field(default_factory=list)


async def _socket(request: web.Request) -> web.StreamResponse:
    script: Script = request.app[SCRIPT]
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    script.sockets += 1
    first = await ws.receive()
    script.frames.append(first.data)
    await ws.send_str("authenticated")
    await ws.send_json({"type": "ready", "content": "hostile", "features": script.features})
    if script.close_after_ready:
        await ws.close(code=1011, message=b"[/]try again \x1b]0;t\x07")
        return ws
    for out in script.on_open:
        await ws.send_str(out if isinstance(out, str) else json.dumps(out))
    async for message in ws:
        if message.type != WSMsgType.TEXT:
            break
        script.frames.append(message.data)
        data = json.loads(message.data)
        if data.get("type") == "resume":
            await ws.send_json({"type": "resumed", "seq": data["after"], "running": []})
            continue
        for out in script.answer(data):
            await ws.send_str(out if isinstance(out, str) else json.dumps(out))
    return ws


@pytest.fixture
async def hostile() -> AsyncIterator[Callable[..., Any]]:
    """Start a scripted server; returns (base URL, script)."""
    runners: list[web.AppRunner] = []

    async def start(script: Script, routes: list[web.RouteDef] | None = None) -> str:
        app = web.Application()
        app[SCRIPT] = script
        app.add_routes(routes or [web.get("/api/claude/ws", _socket)])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


class Tab:
    """A workspace with one tab on the scripted server, and a way to await what it shows."""

    def __init__(self, url: str, store: ChatStore, **options: Any) -> None:
        self.store = store
        self.workspace = Workspace(
            store,
            base_url=url,
            token="secret-token",
            device_id="dev",
            backoff=lambda: Backoff(base=0.02, cap=0.1),
            connection_options=options,
        )
        self.changes: list[Any] = []
        self._arrived = asyncio.Event()
        self.workspace.observe(self._observe)
        self.workspace.restore()
        self.workspace.start()

    def _observe(self, change: Any) -> None:
        self.changes.append(change)
        self._arrived.set()

    @property
    def tab(self) -> ChatTab:
        return self.workspace.selected

    @property
    def notices(self) -> list[str]:
        return [c.text for c in self.changes if isinstance(c, TabNotice)]

    def replies(self) -> list[tuple[str, str]]:
        return [(m.text, m.status) for m in self.tab.messages if m.role == "assistant"]

    async def until(self, predicate: Callable[[], bool], limit: float = 10) -> None:
        async with asyncio.timeout(scaled(limit)):
            while not predicate():
                self._arrived.clear()
                await self._arrived.wait()

    async def stop(self) -> None:
        await self.workspace.stop()


class Watched:
    """A bare tab connection (no workspace) and the events it reports, to await one."""

    def __init__(self, url: str, backoff: Backoff) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Event()
        self.connection = TabConnection(
            base_url=url,
            token="secret-token",
            provider="claude",
            session_id="dev-claude-t",
            device_id="dev",
            on_event=self._record,
            backoff=backoff,
        )
        self.connection.start()

    def _record(self, event: Any) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(scaled(10)):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


def numbered(reply_to: str, seq: int, text: str | None = None) -> dict[str, Any]:
    if text is None:
        return {"type": "complete", "reply_to": reply_to, "seq": seq}
    return {"type": "message", "content": text, "reply_to": reply_to, "seq": seq}


async def test_a_huge_frame_number_loses_no_later_reply(
    hostile: Callable[..., Any], tmp_path: Path
) -> None:
    counter = iter(range(1, 1000))

    def answer(frame: dict[str, Any]) -> list[dict[str, Any] | str]:
        msg_id = frame["id"]
        if frame["content"] == "first":
            return [numbered(msg_id, 10**30, "lost"), numbered(msg_id, 10**30)]
        seq = next(counter)
        return [
            {"type": "ack", "id": msg_id, "state": "queued", "seq": seq},
            numbered(msg_id, next(counter), f"answer to {frame['content']}"),
            numbered(msg_id, next(counter)),
        ]

    url = await hostile(Script(answer))
    store = ChatStore(tmp_path / "history.db")
    tab = Tab(url, store)
    await tab.until(lambda: tab.tab.state.phase is Phase.CONNECTED)
    tab.workspace.send(tab.tab.tab_id, "first")
    await tab.until(lambda: sum("sequence number" in n for n in tab.notices) >= 2)
    tab.workspace.send(tab.tab.tab_id, "second")
    await tab.until(lambda: tab.replies() == [("answer to second", "complete")])
    await tab.stop()
    again = [(m.role, m.text) for m in store.recent(tab.tab.session_id, 10)]
    assert again == [("user", "first"), ("user", "second"), ("assistant", "answer to second")]
    assert store.last_seq(tab.tab.session_id) == 3
    store.close()


async def test_a_gap_never_filled_is_given_up_in_seconds(
    hostile: Callable[..., Any], tmp_path: Path
) -> None:
    def answer(frame: dict[str, Any]) -> list[dict[str, Any] | str]:
        msg_id = frame["id"]
        return [
            {"type": "ack", "id": msg_id, "state": "queued", "seq": 1},
            numbered(msg_id, 3, "after the gap"),  # 2 never comes
            numbered(msg_id, 4),
        ]

    url = await hostile(Script(answer))
    tab = Tab(url, ChatStore(tmp_path / "history.db"), gap_wait=0.2)
    await tab.until(lambda: tab.tab.state.phase is Phase.CONNECTED)
    tab.workspace.send(tab.tab.tab_id, "hello")
    await tab.until(lambda: tab.replies() == [("after the gap", "complete")])
    assert any("frames 2–2" in n and "never came" in n for n in tab.notices)
    await tab.stop()


async def test_replies_to_ids_never_sent_are_not_stored_and_the_notices_are_few(
    hostile: Callable[..., Any], tmp_path: Path
) -> None:
    phantoms: list[dict[str, Any] | str] = []
    for n in range(2000):
        phantoms += [numbered(f"ghost{n}", 2 * n + 1, "boo"), numbered(f"ghost{n}", 2 * n + 2)]

    def answer(frame: dict[str, Any]) -> list[dict[str, Any] | str]:
        msg_id = frame["id"]
        return [
            {"type": "ack", "id": msg_id, "state": "queued", "seq": 4001},
            numbered(msg_id, 4002, "real"),
            numbered(msg_id, 4003),
        ]

    url = await hostile(Script(answer, on_open=phantoms))
    store = ChatStore(tmp_path / "history.db")
    tab = Tab(url, store)
    await tab.until(lambda: tab.tab.state.phase is Phase.CONNECTED)
    tab.workspace.send(tab.tab.tab_id, "hello")
    await tab.until(lambda: tab.replies() == [("real", "complete")])
    connection = tab.tab.connection
    assert connection is not None
    await tab.stop()  # says what it held back
    assert [m.role for m in store.recent(tab.tab.session_id, 100)] == ["user", "assistant"]
    shown = [n for n in tab.notices if "never sent" in n]
    assert 1 <= len(shown) <= connection.notices.burst
    assert any("more notices like these" in n for n in tab.notices)
    store.close()


async def test_a_base_server_repeating_its_answer_is_shown_once(
    hostile: Callable[..., Any], tmp_path: Path
) -> None:
    def answer(frame: dict[str, Any]) -> list[dict[str, Any] | str]:
        reply: list[dict[str, Any] | str] = [
            {"type": "message", "content": f"echo {frame['content']}"},
            {"type": "complete"},
        ]
        return reply + reply

    url = await hostile(Script(answer, features={}))
    tab = Tab(url, ChatStore(tmp_path / "history.db"))
    await tab.until(lambda: tab.tab.state.phase is Phase.CONNECTED)
    tab.workspace.send(tab.tab.tab_id, "one")
    await tab.until(lambda: any("again" in n for n in tab.notices))
    tab.workspace.send(tab.tab.tab_id, "two")
    await tab.until(lambda: sum("again" in n for n in tab.notices) == 2)
    assert tab.replies() == [("echo one", "complete"), ("echo two", "complete")]
    await tab.stop()


async def test_frames_for_another_session_are_not_stored(
    hostile: Callable[..., Any], tmp_path: Path
) -> None:
    def answer(frame: dict[str, Any]) -> list[dict[str, Any] | str]:
        msg_id, other = frame["id"], "someone-claude-else"
        return [
            {"type": "ack", "id": msg_id, "state": "queued", "seq": 1},
            {**numbered(msg_id, 2, "not yours"), "session_id": other},
            {**numbered(msg_id, 2, "yours"), "session_id": frame["session_id"]},
            numbered(msg_id, 3),
        ]

    url = await hostile(Script(answer))
    tab = Tab(url, ChatStore(tmp_path / "history.db"))
    await tab.until(lambda: tab.tab.state.phase is Phase.CONNECTED)
    tab.workspace.send(tab.tab.tab_id, "hello")
    await tab.until(lambda: tab.replies() == [("yours", "complete")])
    assert any("another session (someone-claude-else)" in n for n in tab.notices)
    await tab.stop()


async def test_a_redirect_to_another_host_never_gets_the_token(hostile: Callable[..., Any]) -> None:
    canary = Script()
    elsewhere = await hostile(canary)

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(elsewhere.replace("http", "ws") + "/api/claude/ws")

    url = await hostile(Script(), [web.get("/api/claude/ws", redirect)])
    watched = Watched(url, Backoff(base=0.01, cap=0.05))
    connection = watched.connection
    await watched.until(lambda: "redirects to" in connection.state.detail)
    where = elsewhere.replace("http", "ws")
    assert where in connection.state.detail and "token stays here" in connection.state.detail
    assert connection.state.phase is Phase.UNREACHABLE
    await connection.stop()
    assert canary.sockets == 0 and canary.frames == []


async def test_a_server_that_closes_every_socket_is_retried_ever_more_slowly(
    hostile: Callable[..., Any],
) -> None:
    script = Script(close_after_ready=True)
    url = await hostile(script)
    watched = Watched(url, Backoff(base=0.001, cap=0.01))
    connection, states = watched.connection, watched.events
    await watched.until(lambda: connection.connects >= 6)
    await connection.stop()
    assert connection.backoff.attempt >= 5, "the delay grew: it never started again"
    details = [e.state.detail for e in states if hasattr(e, "state")]
    assert any("code 1011" in d and "[/]try again ␛]0;t␇" in d for d in details)
    assert not any(isinstance(e, Notice) and "error" in e.text for e in states)
