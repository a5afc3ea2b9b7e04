"""WebSocket protocol of docs/protocol.md §1.2 on a real server, with real client sockets."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import aiohttp
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness.timing import scaled
from mock_backend import MockBackend
from mock_backend.wire import Agent
from tests.conftest import TOKEN, BackendFactory
from tests.functional.mock_backend.client import ask, open_chat, read_reply

# handshake --------------------------------------------------------------------------------------


@pytest.mark.parametrize("agent", ["claude", "codex"])
async def test_handshake_then_ready(backend: MockBackend, agent: Agent) -> None:
    async with connect(backend.ws_url(agent)) as ws:
        await ws.send(TOKEN)
        assert await ws.recv() == "authenticated"
        ready = json.loads(await ws.recv())
        assert ready["type"] == "ready" and isinstance(ready["content"], str)
        datetime.fromisoformat(ready["timestamp"])
        assert ready["features"] and all(isinstance(v, bool) for v in ready["features"].values())


async def test_wrong_key_is_refused_and_closed(backend: MockBackend) -> None:
    async with connect(backend.ws_url("claude")) as ws:
        await ws.send("wrong-token")
        assert await ws.recv() == "error:invalid_api_key"
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert (await _health(backend))["connections"]["claude"] == 0


async def test_binary_first_frame_closes(backend: MockBackend) -> None:
    async with connect(backend.ws_url("claude")) as ws:
        await ws.send(TOKEN.encode())
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_no_token_in_time_closes(start_backend: BackendFactory) -> None:
    backend = await start_backend(auth_timeout=0.3)
    async with connect(backend.ws_url("codex")) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), scaled(5))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert "authentication timeout" in closed.value.rcvd.reason


# streaming --------------------------------------------------------------------------------------


async def test_reply_streams_in_chunks_with_message_count(backend: MockBackend) -> None:
    ws = await open_chat(backend)
    counts = []
    for text in ("/long 300", "second", "third"):
        reply = await ask(ws, text, "dev-claude-stream", device_id="dev", chat_type="jarvis")
        assert reply.ok, reply.end
        assert all(len(c) == 100 for c in reply.chunks[:-1]) and 0 < len(reply.chunks[-1]) <= 100
        assert reply.last_frame["content"] == "Response complete"
        datetime.fromisoformat(reply.last_frame["timestamp"])
        counts.append(reply.count)
    assert counts == [2, 4, 6]
    await ws.close()


async def test_chunk_size_is_configurable(start_backend: BackendFactory) -> None:
    backend = await start_backend(chunk_size=7)
    ws = await open_chat(backend)
    reply = await ask(ws, "hello", "s")
    assert max(len(c) for c in reply.chunks) == 7 and len(reply.chunks) > 5
    await ws.close()


async def test_follow_up_is_answered_from_context(backend: MockBackend) -> None:
    ws = await open_chat(backend)
    await ask(ws, "Remember the code word PAPAYA-7", "dev-claude-ctx")
    reply = await ask(ws, "What was the code word?", "dev-claude-ctx")
    assert "PAPAYA-7" in reply.text
    await ws.close()


async def test_agents_speak_as_jarvis_and_codex(backend: MockBackend) -> None:
    claude, codex = await open_chat(backend, "claude"), await open_chat(backend, "codex")
    assert (await ask(claude, "hello", "c1")).text.startswith("**Jarvis here.**")
    assert (await ask(codex, "hello", "x1")).text.startswith("**Codex here.**")
    await claude.close()
    await codex.close()


async def test_same_session_from_another_device_continues(backend: MockBackend) -> None:
    phone, laptop = await open_chat(backend), await open_chat(backend)
    await ask(phone, "My name is Ty", "shared", device_id="phone")
    reply = await ask(laptop, "What's my name?", "shared", device_id="laptop")
    assert "Ty" in reply.text and reply.count == 4
    await phone.close()
    await laptop.close()


async def test_two_sessions_stream_at_once_without_cross_talk(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(chunk_delay=0.002, chunk_size=20)
    a, b = await open_chat(backend), await open_chat(backend, "codex")
    await ask(a, "Remember the code word ALPHA-1", "sess-a")
    await ask(b, "Remember the code word BRAVO-2", "sess-b")
    ra, rb = await asyncio.gather(
        ask(a, "What was the code word?", "sess-a"), ask(b, "What was the code word?", "sess-b")
    )
    assert "ALPHA-1" in ra.text and "BRAVO" not in ra.text
    assert "BRAVO-2" in rb.text and "ALPHA" not in rb.text
    assert ra.count == rb.count == 4
    await a.close()
    await b.close()


async def test_attachments_reach_storage(backend: MockBackend) -> None:
    ws = await open_chat(backend)
    attachment = {
        "id": "1",
        "filename": "a.png",
        "mime_type": "image/png",
        "size": 3,
        "type": "image",
        "url": "http://x/uploads/a.png",
    }
    await ask(ws, "see this", "s-att", attachments=[attachment, "junk"])
    (user, _) = backend.registry.store.all_messages("s-att")
    assert user.metadata is not None and user.metadata["attachments"] == [attachment]
    assert user.metadata["message_id"].startswith("server-"), "an id made by the server"
    await ws.close()


# bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "content"),
    [
        ("this is not json", "Invalid message format"),
        ("[1, 2, 3]", "Invalid message format"),
        ('{"content": 42}', "Invalid message format"),
        ('{"content": "x", "session_id": "' + "s" * 300 + '"}', "Invalid session_id"),
        ('{"content": "x", "session_id": "bad\\u0007id"}', "Invalid session_id"),
        (json.dumps({"content": "x" * (1024 * 1024 + 10)}), "Message too large"),
    ],
)
async def test_bad_frame_gets_an_error_and_socket_stays_usable(
    backend: MockBackend, frame: str, content: str
) -> None:
    ws = await open_chat(backend)
    await ws.send(frame)
    error = json.loads(await ws.recv())
    assert error["type"] == "error" and error["content"] == content
    assert (await ask(ws, "still there?", "after-bad")).ok
    await ws.close()


async def test_binary_frame_after_auth_gets_an_error(backend: MockBackend) -> None:
    ws = await open_chat(backend)
    await ws.send(b"\x00\x01")
    assert json.loads(await ws.recv())["content"] == "Binary frames are not supported"
    assert (await ask(ws, "hi", "after-binary")).ok
    await ws.close()


async def test_frames_without_content_and_empty_content_are_ignored(backend: MockBackend) -> None:
    ws = await open_chat(backend)
    await ws.send(json.dumps({"working_directory": "/Users/ty/BuilderOS"}))
    await ws.send(json.dumps({"content": "", "session_id": "s"}))
    await ws.send(json.dumps({"content": "   ", "session_id": "s"}))
    reply = await ask(ws, "hello", "s")
    assert reply.ok and reply.count == 2, "nothing was answered or stored before"
    await ws.close()


async def test_huge_frame_closes_only_that_socket(backend: MockBackend) -> None:
    ws = await open_chat(backend)
    await ws.send("x" * (17 * 1024 * 1024))
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    other = await open_chat(backend)
    assert (await ask(other, "hi", "s")).ok
    await other.close()


async def test_many_messages_at_once_are_answered_in_order(backend: MockBackend) -> None:
    ws = await open_chat(backend)
    frames = [
        json.dumps({"content": f"message number {i}", "session_id": "burst"}) for i in range(8)
    ]
    frames.insert(4, "not json")
    for frame in frames:
        await ws.send(frame)
    ends = []
    for i in range(9):
        if i == 4:
            assert json.loads(await ws.recv())["content"] == "Invalid message format"
            continue
        reply = await read_reply(ws)
        n = i if i < 4 else i - 1
        assert f"message number {n}" in reply.text
        ends.append(reply.count)
    assert ends == [2, 4, 6, 8, 10, 12, 14, 16]
    await ws.close()


async def test_bad_input_leaves_every_session_intact(backend: MockBackend) -> None:
    ws = await open_chat(backend)
    await ask(ws, "Remember the code word INTACT-9", "keeper")
    await ask(ws, "My name is Ty", "keeper")
    before = [(m.role, m.content) for m in backend.registry.store.all_messages("keeper")]
    for frame in ("nope", "[]", '{"content": 1}', '{"content": "x", "session_id": "\\u0000"}'):
        await ws.send(frame)
        assert json.loads(await ws.recv())["type"] == "error"
    async with connect(backend.ws_url("claude")) as intruder:
        await intruder.send("wrong")
        assert await intruder.recv() == "error:invalid_api_key"
    assert [(m.role, m.content) for m in backend.registry.store.all_messages("keeper")] == before
    reply = await ask(ws, "What was the code word?", "keeper")
    assert "INTACT-9" in reply.text and reply.count == 6
    await ws.close()


# failures during a turn ---------------------------------------------------------------------


async def test_bridgehub_failure_is_an_error_frame_and_stored_as_such(backend: MockBackend) -> None:
    ws = await open_chat(backend)
    reply = await ask(ws, "/fail agent crashed", "s-fail")
    assert reply.chunks == [], "no answer-looking message frames"
    assert not reply.ok and "agent crashed" in reply.error
    stored = backend.registry.store.all_messages("s-fail")
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].metadata is not None and stored[1].metadata["status"] == "error"
    assert stored[1].content.startswith("[no reply:")
    assert (await ask(ws, "hello again", "s-fail")).count == 4
    await ws.close()


async def test_storage_failure_is_reported_and_the_server_keeps_running(
    backend: MockBackend,
) -> None:
    ws = await open_chat(backend)
    await ask(ws, "first", "s-disk")
    backend.registry.store._db.execute("PRAGMA max_page_count=1")  # as good as a full disk
    reply = await ask(ws, "x" * 200_000, "s-disk")
    assert not reply.ok and "Storage failed" in reply.error
    stored = backend.registry.store.all_messages("s-disk")
    assert [m.role for m in stored] == ["user", "assistant"], "the refused message left no trace"
    assert stored[0].content == "first"
    backend.registry.store._db.execute("PRAGMA max_page_count=1073741823")
    assert (await ask(ws, "better now", "s-disk")).ok
    await ws.close()


async def test_a_reference_server_stores_a_turn_its_client_left_as_interrupted(
    start_backend: BackendFactory,
) -> None:
    """(With the delivery extension the reply belongs to the session: it goes on, and every
    device sees it: test_sync.py.)"""
    backend = await start_backend(chunk_delay=0.01, delivery=False)
    ws = await open_chat(backend)
    await ws.send(json.dumps({"content": "/long 3000", "session_id": "s-cut"}))
    first = json.loads(await ws.recv())
    assert first["type"] == "message"
    session = backend.registry.active["s-cut"]
    await ws.close()
    async with session.lock:  # held by the turn until it has stored its outcome
        stored = backend.registry.store.all_messages("s-cut")
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].metadata is not None and stored[1].metadata["status"] == "interrupted"
    assert stored[1].metadata["delivered_chars"] >= 100
    again = await open_chat(backend)
    assert (await ask(again, "are you there?", "s-cut")).count == 4
    await again.close()


async def test_close_during_a_reply_stops_it(start_backend: BackendFactory) -> None:
    backend = await start_backend(chunk_delay=0.01)
    ws = await open_chat(backend)
    await ws.send(json.dumps({"content": "/long 3000", "session_id": "s-stop"}))
    assert json.loads(await ws.recv())["type"] == "message"
    async with httpx.AsyncClient(base_url=backend.url) as http:
        closed = await http.delete(
            "/api/claude/session/s-stop/close", headers={"Authorization": TOKEN}
        )
    assert closed.status_code == 200 and closed.json()["process_killed"] is True
    reply = await read_reply(ws)
    assert not reply.ok and reply.error == "Session closed"
    stored = backend.registry.store.all_messages("s-stop")
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].metadata is not None and stored[1].metadata["status"] == "interrupted"
    assert (await ask(ws, "hello", "s-stop")).count == 4, "reopened"
    await ws.close()


# keep-alive ----------------------------------------------------------------------------------


async def test_silent_peer_is_dropped_after_an_unanswered_ping(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(heartbeat=0.2)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(backend.ws_url("claude"), autoping=False) as ws,
    ):
        await ws.send_str(TOKEN)
        assert (await ws.receive()).data == "authenticated"
        kinds = []
        while True:
            msg = await asyncio.wait_for(ws.receive(), scaled(5))
            kinds.append(msg.type)
            if msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                break
        assert aiohttp.WSMsgType.PING in kinds


async def _health(backend: MockBackend) -> dict:
    async with httpx.AsyncClient(base_url=backend.url) as http:
        return (await http.get("/api/health")).json()


async def test_an_unexpected_failure_is_answered_and_the_socket_lives_on(
    backend: MockBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request: dict) -> str:
        raise RuntimeError("a bug")

    ws = await open_chat(backend)
    monkeypatch.setattr(backend.bridgehub, "ask", broken)
    reply = await ask(ws, "hello", "s-bug")
    assert not reply.ok and reply.error == "Internal server error"
    monkeypatch.undo()
    assert (await ask(ws, "hello again", "s-bug")).ok
    await ws.close()
