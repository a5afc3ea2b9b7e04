"""Nothing typed is lost, nothing runs twice: the workspace against the real mock with faults
injected, on real sockets. Each test compares what the client stored with the server's store."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.timing import scaled
from mock_backend import MockBackend
from mock_backend.faults import FaultPlan
from tests.conftest import TOKEN, BackendFactory
from tui.client.backoff import Backoff
from tui.model.workspace import ChatTab, Workspace
from tui.store import ChatStore

FAST = {"probe_after": 0.4, "probe_timeout": 0.4}


def quick_backoff() -> Backoff:
    return Backoff(base=0.05, cap=0.2)


class Client:
    """A workspace on a store, with a way to await what it shows."""

    def __init__(self, store: ChatStore, url: str) -> None:
        self.workspace = Workspace(
            store,
            base_url=url,
            token=TOKEN,
            device_id="dev",
            backoff=quick_backoff,
            connection_options={k: scaled(v) for k, v in FAST.items()},
        )
        self._changed = asyncio.Event()
        self.workspace.observe(lambda change: self._changed.set())
        self.workspace.restore()
        self.workspace.start()

    @property
    def tab(self) -> ChatTab:
        return self.workspace.selected

    async def until(self, condition: Callable[[], Any], limit: float = 15) -> None:
        async with asyncio.timeout(scaled(limit)):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def ended(self, status: str, limit: float = 15) -> None:
        """Until the last reply has ended this way."""
        await self.until(lambda: bool(self.replies()) and self.replies()[-1][1] == status, limit)

    def status(self, msg_id: str) -> str:
        """The status of the message as the tab holds it now (messages are values)."""
        return next(m.status for m in self.tab.messages if m.msg_id == msg_id)

    def replies(self) -> list[tuple[str, str]]:
        return [(m.text, m.status) for m in self.tab.messages if m.role == "assistant"]


def server_replies(backend: MockBackend, session_id: str) -> list[tuple[str, str]]:
    """Each stored reply as far as it was streamed (an unfinished one keeps the whole answer
    BridgeHub gave, and how much of it went out)."""
    replies = []
    for m in backend.registry.store.all_messages(session_id):
        if m.role == "assistant":
            meta = m.metadata or {}
            text = m.content[: meta["delivered_chars"]] if "delivered_chars" in meta else m.content
            replies.append((text, meta.get("status", "")))
    return replies


async def restart(
    backend: MockBackend, start_backend: BackendFactory, **overrides: Any
) -> MockBackend:
    """Stop the backend and start another on the same port and database."""
    port = backend.port
    await backend.stop()
    sock = socket.create_server(("127.0.0.1", port))
    return await start_backend(sock=sock, **overrides)


async def test_a_reply_dropped_mid_stream_resumes_with_identical_text(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(chunk_delay=0.01, faults=FaultPlan(drop_after_chunks=3, times=2))
    client = Client(ChatStore(tmp_path / "h.db"), backend.url)
    client.workspace.send(client.tab.tab_id, "/long 3000")
    await client.ended("complete")
    assert backend.faults.fired.get("drop") == 2
    assert client.replies() == server_replies(backend, client.tab.session_id)
    user = [m for m in client.tab.messages if m.role == "user"]
    assert [m.status for m in user] == ["acknowledged"]
    assert len(backend.registry.store.all_messages(client.tab.session_id)) == 2, "one turn"
    await client.workspace.stop()


async def test_duplicated_and_reordered_frames_change_nothing(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(
        chunk_delay=0, faults=FaultPlan(duplicate_frame=True, reorder_frames=True)
    )
    client = Client(ChatStore(tmp_path / "h.db"), backend.url)
    client.workspace.send(client.tab.tab_id, "/long 1500")
    await client.ended("complete")
    assert backend.faults.fired["duplicate"] > 0 and backend.faults.fired["reorder"] > 0
    assert client.replies() == server_replies(backend, client.tab.session_id)
    await client.workspace.stop()


async def test_an_unacknowledged_message_is_sent_again_and_runs_once(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(faults=FaultPlan(drop_ack=True, times=1))
    client = Client(ChatStore(tmp_path / "h.db"), backend.url)
    client.workspace.send(client.tab.tab_id, "hello once")
    await client.ended("complete")
    stored = backend.registry.store.all_messages(client.tab.session_id)
    assert [m.role for m in stored] == ["user", "assistant"], "the repeat was not a second turn"
    await client.workspace.stop()


async def test_a_server_that_holds_the_socket_silent_is_left_and_the_message_arrives(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend()
    client = Client(ChatStore(tmp_path / "h.db"), backend.url)
    await client.until(lambda: client.tab.state.phase.value == "connected")
    for chat_socket in backend.sockets.values():
        chat_socket.freeze()  # open, reading nothing, answering no ping
    client.workspace.send(client.tab.tab_id, "into the void?")
    await client.until(lambda: client.tab.state.phase.value != "connected")
    again = await restart(backend, start_backend)
    await client.ended("complete")
    assert client.replies() == server_replies(again, client.tab.session_id)
    await client.workspace.stop()


async def test_a_reply_cut_by_quitting_is_completed_after_a_restart(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(chunk_delay=0.02)
    store = ChatStore(tmp_path / "h.db")
    client = Client(store, backend.url)
    client.workspace.send(client.tab.tab_id, "/long 2500")
    await client.until(lambda: len(client.tab.live or "") > 300)
    await client.workspace.stop()
    assert client.replies()[-1][1] == "interrupted"
    again = Client(store, backend.url)
    await again.ended("complete")
    assert again.replies() == server_replies(backend, again.tab.session_id)
    assert [m.msg_id for m in store.recent(again.tab.session_id, 10)] == [
        m.msg_id for m in again.tab.messages
    ]
    await again.workspace.stop()


async def test_a_server_restart_mid_reply_ends_it_interrupted_and_retry_asks_again(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(chunk_delay=0.02)
    client = Client(ChatStore(tmp_path / "h.db"), backend.url)
    client.workspace.send(client.tab.tab_id, "/long 4000")
    await client.until(lambda: len(client.tab.live or "") > 200)
    again = await restart(backend, start_backend, chunk_delay=0)
    await client.ended("interrupted")
    assert client.workspace.retry(client.tab.tab_id) is not None
    await client.ended("complete")
    assert client.replies() == server_replies(again, client.tab.session_id)
    await client.workspace.stop()


async def test_stop_ends_the_reply_as_stopped_on_both_sides(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(chunk_delay=0.02)
    client = Client(ChatStore(tmp_path / "h.db"), backend.url)
    client.workspace.send(client.tab.tab_id, "/long 5000")
    await client.until(lambda: len(client.tab.live or "") > 100)
    assert client.workspace.stop_reply(client.tab.tab_id)
    await client.ended("stopped")
    assert client.replies() == server_replies(backend, client.tab.session_id)
    await client.workspace.stop()


async def test_without_the_extension_a_message_lost_in_a_drop_is_not_confirmed(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(delivery=False)
    client = Client(ChatStore(tmp_path / "h.db"), backend.url)
    await client.until(lambda: client.tab.state.phase.value == "connected")
    for chat_socket in backend.sockets.values():
        chat_socket.freeze()
    sent = client.workspace.send(client.tab.tab_id, "did this arrive?")
    await client.until(lambda: client.status(sent.msg_id) == "not_confirmed")
    again = await restart(backend, start_backend, delivery=False)
    await client.until(lambda: client.tab.state.phase.value == "connected")
    retried = client.workspace.retry(client.tab.tab_id)
    assert retried is not None and retried.msg_id == sent.msg_id
    await client.ended("complete")
    assert client.status(sent.msg_id) == "acknowledged"
    assert client.replies() == server_replies(again, client.tab.session_id)
    await client.workspace.stop()
