"""Frames a broken or hostile client might send get a clean answer, and the socket keeps
working: deep nesting, lone surrogates, bursts of frames that need no answer."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect

from mock_backend import MockBackend
from mock_backend.ws import MAX_QUEUED
from tests.conftest import BackendFactory
from tests.functional.mock_backend.client import ask, open_chat

LONE = "\ud83d"


async def test_a_deeply_nested_frame_gets_an_error_and_the_socket_lives_on(
    backend: MockBackend,
) -> None:
    client = await open_chat(backend)
    await client.send('{"content": ' + "[" * 1000 + "]" * 1000 + "}")  # 2 KB
    error = json.loads(await client.recv())
    assert error["type"] == "error" and error["detail"] == "JSON nested too deeply"
    assert (await ask(client, "still answering?", "deep")).ok
    await client.close()


async def test_a_lone_surrogate_in_content_is_stored_with_a_replacement(
    backend: MockBackend,
) -> None:
    client = await open_chat(backend)
    reply = await ask(client, f"half an emoji {LONE}", "lone-content")
    assert reply.ok and reply.count == 2
    stored = backend.registry.active["lone-content"]
    history = backend.registry.history(stored)
    assert history[0]["content"] == "half an emoji \ufffd"
    await client.close()


@pytest.mark.parametrize("field", ["session_id", "device_id"])
async def test_a_lone_surrogate_in_an_id_is_refused_clearly(
    backend: MockBackend, field: str
) -> None:
    client = await open_chat(backend)
    frame = {"content": "hi", "session_id": "ok-session", field: f"id{LONE}"}
    await client.send(json.dumps(frame))
    error = json.loads(await client.recv())
    assert error == {**error, "type": "error", "content": f"Invalid {field}"}
    assert "surrogate" in error["detail"]
    assert (await ask(client, "and now?", "after-lone-id")).ok
    await client.close()


async def test_a_bridgehub_answer_with_a_lone_surrogate_is_streamed_and_stored(
    backend: MockBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def cut_answer(request: object) -> str:
        return f"an answer cut inside an emoji {LONE}"

    monkeypatch.setattr(backend.bridgehub, "ask", cut_answer)
    client = await open_chat(backend)
    reply = await ask(client, "hello", "lone-answer")
    assert reply.ok and reply.text == "an answer cut inside an emoji \ufffd"
    history = backend.registry.history(backend.registry.active["lone-answer"])
    assert history[-1]["content"] == reply.text
    await client.close()


async def test_a_burst_of_frames_that_need_no_answer_does_not_close_the_socket(
    backend: MockBackend,
) -> None:
    client = await open_chat(backend)
    for _ in range(10_000):
        await client.send('{"content": ""}')
    reply = await ask(client, "after the burst", "burst")
    assert reply.ok and reply.count == 2
    await client.close()


async def test_frames_that_do_need_an_answer_are_still_limited(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(chunk_delay=0.05)
    client = await open_chat(backend)
    await client.send(json.dumps({"content": "/long 3000", "session_id": "slow"}))
    for _ in range(MAX_QUEUED + 10):  # each is owed an error frame, behind the slow turn
        await client.send("not json")
    await client.ws.wait_closed()
    assert client.ws.close_code == 1008
    assert client.ws.close_reason == "too many messages waiting for an answer"


async def test_repeated_wrong_tokens_are_slowed_but_never_the_right_one(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(failure_delay=2.0)  # a sixth failure would wait 2 s
    for _ in range(5):  # the free ones: answered at once
        async with connect(backend.ws_url("claude")) as ws:
            await ws.send("wrong")
            assert await ws.recv() == "error:invalid_api_key"
    assert backend.throttle.failures("127.0.0.1") == 5
    assert backend.throttle.delay(6) == 2.0, "the next failure from here would wait"
    client = await open_chat(backend)  # the right token, from the same address, at once
    assert backend.throttle.failures("127.0.0.1") == 0, "a success forgets the failures"
    await client.close()
    async with httpx.AsyncClient(base_url=backend.url) as http:
        for _ in range(5):
            answer = await http.delete(
                "/api/claude/session/x/close", headers={"Authorization": "no"}
            )
            assert answer.status_code == 401
    assert backend.throttle.failures("127.0.0.1") == 5, "HTTP failures count the same"
