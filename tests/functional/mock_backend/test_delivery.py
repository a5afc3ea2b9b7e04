"""The delivery extension on the mock (docs/protocol.md), frame by frame on real sockets:
acknowledgement, no second turn for a repeated id, numbered frames, resume after a drop and
after a restart, stop, the history endpoint, and `--features none`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from mock_backend import MockBackend
from tests.conftest import TOKEN, BackendFactory
from tests.functional.mock_backend.client import Client, open_chat

SESSION = "dev-claude-delivery"


async def frame(client: Client) -> dict[str, Any]:
    raw = await client.recv()
    assert isinstance(raw, str)
    data: dict[str, Any] = json.loads(raw)
    return data


async def until_end(client: Client, reply_to: str) -> list[dict[str, Any]]:
    """Frames up to the end of the reply to `reply_to` (complete, error, stopped, interrupted)."""
    frames = []
    while True:
        data = await frame(client)
        frames.append(data)
        if data.get("reply_to") == reply_to and data["type"] in (
            "complete",
            "error",
            "stopped",
            "interrupted",
        ):
            return frames


async def chat(client: Client, msg_id: str, content: str, session: str = SESSION) -> None:
    await client.send(json.dumps({"content": content, "session_id": session, "id": msg_id}))


async def test_ready_announces_the_extension(backend: MockBackend) -> None:
    client = await open_chat(backend)
    assert {"message_ids", "resume", "stop", "session_history"} <= set(client.protocol.features)


async def test_ack_then_numbered_reply(backend: MockBackend) -> None:
    client = await open_chat(backend)
    await chat(client, "m1", "/long 250")
    frames = await until_end(client, "m1")
    assert frames[0] == {"type": "skip", "seq": 1, "reply_to": "m1"}, "the turn: not asked for"
    assert frames[1]["type"] == "ack" and frames[1]["id"] == "m1"
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    assert all(f["reply_to"] == "m1" for f in frames[2:])
    assert frames[-1]["type"] == "complete" and frames[-1]["message_count"] == 2


async def test_a_repeated_id_is_not_a_second_turn(backend: MockBackend) -> None:
    client = await open_chat(backend)
    await chat(client, "m1", "hello")
    await until_end(client, "m1")
    await chat(client, "m1", "hello")
    duplicate = await frame(client)
    assert duplicate == {**duplicate, "type": "ack", "id": "m1", "duplicate": True}
    assert duplicate["state"] == "complete" and "seq" not in duplicate
    messages = backend.registry.store.all_messages(SESSION)
    assert [m.role for m in messages] == ["user", "assistant"]


async def test_a_reply_outlives_its_socket_and_resumes(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(chunk_delay=0.02)
    first = await open_chat(backend)
    await chat(first, "m1", "/long 2000")
    seen = [await frame(first) for _ in range(4)]  # the ack and three chunks
    await first.close()
    second = await open_chat(backend)
    await second.send(
        json.dumps({"type": "resume", "session_id": SESSION, "after": seen[-1]["seq"]})
    )
    rest = await until_end(second, "m1")
    frames = seen + [f for f in rest if f["type"] != "resumed"]
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))  # nothing twice, no gap
    text = "".join(f["content"] for f in frames if f["type"] == "message")
    stored = backend.registry.store.all_messages(SESSION)[-1]
    assert stored.metadata == {"status": "complete", "reply_to": "m1"} and stored.content == text


async def test_resume_after_a_restart_replays_from_the_store(
    start_backend: BackendFactory, mock_config: Any
) -> None:
    backend = await start_backend()
    client = await open_chat(backend)
    await chat(client, "m1", "hello")
    frames = await until_end(client, "m1")
    await client.close()
    await backend.stop()
    again = await start_backend()
    client = await open_chat(again)
    await client.send(json.dumps({"type": "resume", "session_id": SESSION, "after": 1}))
    replay = [await frame(client) for _ in range(len(frames))]
    assert replay[:-1] == frames[1:]
    assert replay[-1]["type"] == "resumed" and replay[-1]["seq"] == frames[-1]["seq"]
    assert replay[-1]["running"] == []


async def test_stop_stores_the_partial_reply_as_stopped(start_backend: BackendFactory) -> None:
    backend = await start_backend(chunk_delay=0.05)
    client = await open_chat(backend)
    await chat(client, "m1", "/long 5000")
    await frame(client)  # ack
    await frame(client)  # a first chunk: the reply runs
    await client.send(json.dumps({"type": "stop", "session_id": SESSION, "id": "m1"}))
    frames = await until_end(client, "m1")
    assert frames[-1]["type"] == "stopped"
    stored = backend.registry.store.all_messages(SESSION)[-1]
    assert stored.metadata is not None and stored.metadata["status"] == "stopped"
    await chat(client, "m2", "still here?")
    assert (await until_end(client, "m2"))[-1]["type"] == "complete"


async def test_a_message_acknowledged_before_a_restart_is_answered_after_it(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(chunk_delay=0.05)
    client = await open_chat(backend)
    await chat(client, "m1", "/long 3000")
    await chat(client, "m2", "second")
    acks = [await frame(client) for _ in range(2)]
    while acks[-1].get("id") != "m2":
        acks.append(await frame(client))
    await client.close()
    await backend.stop()  # m1 was replying, m2 queued
    again = await start_backend()
    client = await open_chat(again)
    await client.send(json.dumps({"type": "resume", "session_id": SESSION, "after": 0}))
    frames = await until_end(client, "m2")
    ends = {f["reply_to"]: f["type"] for f in frames if f["type"] in ("complete", "interrupted")}
    assert ends == {"m1": "interrupted", "m2": "complete"}
    roles = [m.role for m in again.registry.store.all_messages(SESSION)]
    assert roles == ["user", "assistant", "user", "assistant"]


async def test_history_endpoint(backend: MockBackend) -> None:
    client = await open_chat(backend)
    await chat(client, "m1", "hello")
    await until_end(client, "m1")
    url = f"{backend.url}/api/sessions/{SESSION}/messages"
    async with httpx.AsyncClient() as http:
        refused = await http.get(url, headers={"X-API-Key": "wrong"})
        answer = await http.get(url, headers={"X-API-Key": TOKEN})
        missing = await http.get(url.replace(SESSION, "nope"), headers={"X-API-Key": TOKEN})
    assert refused.status_code == 401 and missing.status_code == 404
    body = answer.json()
    assert body["total"] == 2 and body["messages"][0]["content"] == "hello"
    assert body["messages"][0]["metadata"] == {"message_id": "m1", "device_id": "unknown-device"}
    assert body["messages"][1]["metadata"] == {"status": "complete", "reply_to": "m1"}
    assert body["next_before"] is None


async def test_history_comes_a_page_at_a_time_newest_first(backend: MockBackend) -> None:
    client = await open_chat(backend)
    for n in range(3):
        await chat(client, f"m{n}", f"question {n}")
        await until_end(client, f"m{n}")
    url = f"{backend.url}/api/sessions/{SESSION}/messages"
    key = {"X-API-Key": TOKEN}
    contents: list[str] = []
    before: int | None = None
    async with httpx.AsyncClient() as http:
        while True:
            params = {"limit": "4", **({"before": str(before)} if before else {})}
            page = (await http.get(url, params=params, headers=key)).json()
            assert page["total"] == 6 and len(page["messages"]) <= 4
            contents[:0] = [m["content"] for m in page["messages"]]
            numbers = [m["number"] for m in page["messages"]]
            assert numbers == sorted(numbers), "oldest first within a page"
            before = page["next_before"]
            if before is None:
                break
        bad = [
            await http.get(url, params={"limit": value}, headers=key)
            for value in ("0", "501", "-1", "ten", "1e3")
        ]
    assert contents[0::2] == ["question 0", "question 1", "question 2"]
    assert {r.status_code for r in bad} == {400} and bad[0].json()["error"] == "Invalid query"


async def test_features_none_speaks_the_reference_protocol(start_backend: BackendFactory) -> None:
    backend = await start_backend(delivery=False)
    client = await open_chat(backend)
    assert "message_ids" not in client.protocol.features
    await chat(client, "m1", "hello")
    data = await frame(client)
    assert data["type"] == "message" and "seq" not in data and "reply_to" not in data
    await client.send(json.dumps({"type": "resume", "session_id": SESSION, "after": 0}))
    await chat(client, "m2", "again")  # the resume frame was ignored: no answer to it
    while (data := await frame(client))["type"] != "complete":
        pass
    assert (await frame(client))["type"] == "message"
    async with httpx.AsyncClient() as http:
        history = await http.get(
            f"{backend.url}/api/sessions/{SESSION}/messages", headers={"X-API-Key": TOKEN}
        )
    assert history.status_code == 404


async def test_the_admin_endpoint_sets_shows_and_clears_faults(backend: MockBackend) -> None:
    url = f"{backend.url}/api/admin/faults"
    key = {"X-API-Key": TOKEN}
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json={"stall": 1})).status_code == 401
        bad = await http.post(url, json={"explode": 1}, headers=key)
        assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]
        assert (await http.post(url, content=b"[1]", headers=key)).status_code == 400
        ok = await http.post(url, json={"drop_after_chunks": 1, "times": 1}, headers=key)
        assert ok.json()["plan"] == {"drop_after_chunks": 1, "times": 1}
        client = await open_chat(backend)
        await chat(client, "m1", "/long 300")
        while (await frame(client))["type"] != "message":
            pass
        with pytest.raises(ConnectionClosed, match="fault injected"):
            await client.recv()  # dropped after its first chunk
    async with httpx.AsyncClient() as http:
        shown = (await http.get(url, headers=key)).json()
        assert shown == {"ok": True, "plan": {}, "fired": {"drop": 1}}
        assert (await http.delete(url, headers=key)).json()["fired"] == {"drop": 1}
