"""Sync on the mock (docs/protocol.md §5), over real sockets: every turn is journaled whoever sent
it (the iOS app's base-contract frames included, whose socket still gets exactly the base
contract), followers see who is on the session, a close and a stop from any device, and every
follower sees the same order."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from harness.timing import scaled
from mock_backend import MockBackend
from tests.conftest import TOKEN, BackendFactory

SESSION = "MAC-claude-sync"


async def follower(
    backend: MockBackend,
    device: str,
    name: str | None = None,
    replayed: list[dict[str, Any]] | None = None,
) -> ClientConnection:
    """A socket that asked for sync and follows SESSION from its start, past its `resumed`
    (`replayed`: gets the frames before it)."""
    ws = await connect(backend.ws_url("claude"), max_size=None)
    await ws.send(TOKEN)
    assert await ws.recv() == "authenticated"
    assert json.loads(await ws.recv())["features"]["sync"] is True
    hello = {"type": "hello", "accept": ["sync"], "device_id": device}
    await ws.send(json.dumps({**hello, **({"device_name": name} if name else {})}))
    await ws.send(json.dumps({"type": "resume", "session_id": SESSION, "after": 0}))
    frames = await until(ws, "resumed")
    if replayed is not None:
        replayed += frames
    return ws


async def phone(backend: MockBackend) -> ClientConnection:
    """The iOS app: the token, then the config frame; it never says hello nor resumes."""
    ws = await connect(backend.ws_url("claude"), max_size=None)
    await ws.send(TOKEN)
    assert await ws.recv() == "authenticated"
    assert json.loads(await ws.recv())["type"] == "ready"
    await ws.send(json.dumps({"working_directory": "/Users/me"}))
    return ws


async def until(
    ws: ClientConnection, kind: str, where: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Frames up to the first of type `kind` (with these fields, if given), that one last."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(scaled(15)):
        while True:
            frame = json.loads(await ws.recv())
            seen.append(frame)
            if frame["type"] == kind and all(frame.get(k) == v for k, v in (where or {}).items()):
                return seen


def ios_chat(text: str) -> str:
    return json.dumps(
        {
            "content": text,
            "session_id": SESSION,
            "device_id": "PHONE",
            "chat_type": "jarvis",
            "attachments": [],
        }
    )


async def test_a_message_from_the_ios_app_reaches_every_follower_live(
    backend: MockBackend,
) -> None:
    mac = await follower(backend, "MAC")
    ios = await phone(backend)
    await ios.send(ios_chat("hello from the phone"))
    seen = [f for f in await until(mac, "complete") if "seq" in f]  # (presence: unnumbered)
    turn = seen[0]
    assert turn["type"] == "turn" and turn["content"] == "hello from the phone"
    assert turn["device_id"] == "PHONE" and turn["reply_to"].startswith("server-")
    assert seen[1] == {**seen[1], "type": "ack", "id": turn["reply_to"]}
    assert [f["seq"] for f in seen] == list(range(turn["seq"], turn["seq"] + len(seen)))
    assert {f.get("reply_to") for f in seen[2:]} == {turn["reply_to"]}
    mine = await until(ios, "complete")  # the phone: the base contract, exactly
    assert {f["type"] for f in mine} == {"message", "complete"}
    assert all("seq" not in f and "reply_to" not in f for f in mine)
    chunks = "".join(f["content"] for f in mine if f["type"] == "message")
    assert chunks == "".join(f["content"] for f in seen if f["type"] == "message")
    assert mine[-1]["message_count"] == 2
    replayed: list[dict[str, Any]] = []
    late = await follower(backend, "TABLET", replayed=replayed)  # later: resume replays it
    assert replayed[:-1] == seen
    await late.close()
    history = backend.registry.store.all_messages(SESSION)
    assert history[0].metadata == {**(history[0].metadata or {}), "device_id": "PHONE"}


async def test_presence_says_who_is_on_the_session_as_it_changes(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(chunk_delay=0.01)
    mac = await follower(backend, "MAC", "mac mini")
    first = await until(mac, "presence")
    assert [d["device_id"] for d in first[-1]["devices"]] == ["MAC"]
    assert first[-1]["devices"][0]["name"] == "mac mini"
    tablet = await follower(backend, "TABLET")
    joined = (await until(mac, "presence"))[-1]["devices"]
    assert [d["device_id"] for d in joined] == ["MAC", "TABLET"]
    async with httpx.AsyncClient(base_url=backend.url, headers={"X-API-Key": TOKEN}) as http:
        listed = (await http.get("/api/sessions")).json()["sessions"]
    assert listed == [] or all("devices" in s for s in listed), "only active sessions listed"
    ios = await phone(backend)
    await ios.send(ios_chat("/long 2000"))
    on = (await until(mac, "presence"))[-1]["devices"]
    assert [d["device_id"] for d in on] == ["MAC", "TABLET", "PHONE"], "a phone that sent"
    async with httpx.AsyncClient(base_url=backend.url, headers={"X-API-Key": TOKEN}) as http:
        (listed,) = (await http.get("/api/sessions")).json()["sessions"]
    assert listed["busy"] is True and len(listed["devices"]) == 3
    await tablet.close()
    await ios.close()
    left = [(await until(mac, "presence"))[-1]["devices"] for _ in range(2)]
    assert [d["device_id"] for d in left[-1]] == ["MAC"]


async def test_a_close_and_a_stop_from_another_device_reach_every_follower(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(chunk_delay=0.01)
    mac = await follower(backend, "MAC")
    tablet = await follower(backend, "TABLET")
    ios = await phone(backend)
    await ios.send(ios_chat("/long 3000"))
    (turn,) = [f for f in await until(tablet, "message") if f["type"] == "turn"]
    stop = {"type": "stop", "session_id": SESSION, "id": turn["reply_to"]}
    await tablet.send(json.dumps(stop))  # the reply of the phone's message, stopped elsewhere
    assert (await until(mac, "stopped"))[-1]["reply_to"] == turn["reply_to"]
    told = (await until(ios, "error"))[-1]
    assert told["content"] == "Reply stopped", "the phone hears of it in its own words"
    await ios.send(ios_chat("again"))
    await until(ios, "complete")
    async with httpx.AsyncClient(base_url=backend.url) as http:
        closed = await http.delete(
            f"/api/claude/session/{SESSION}/close",
            headers={"Authorization": TOKEN, "X-Device-Id": "TABLET"},
        )
    assert closed.status_code == 200
    for ws in (mac, tablet):
        told = (await until(ws, "closed"))[-1]
        assert (told["session_id"], told["by"]) == (SESSION, "TABLET")


async def test_every_follower_sees_the_turns_of_every_device_in_one_order(
    backend: MockBackend,
) -> None:
    watchers = [await follower(backend, f"W{n}") for n in range(3)]
    ios = await phone(backend)
    mac = await follower(backend, "MAC")
    await ios.send(ios_chat("from the phone"))
    await mac.send(json.dumps({"content": "from the mac", "session_id": SESSION, "id": "m1"}))
    orders = []
    for ws in watchers:
        frames: list[dict[str, Any]] = []
        while sum(f["type"] == "complete" for f in frames) < 2:
            frames += await until(ws, "complete")
        orders.append([(f["seq"], f["type"], f.get("reply_to")) for f in frames if "seq" in f])
    assert orders[0] == orders[1] == orders[2]
    turns = [f for f in orders[0] if f[1] == "turn"]
    completes = [f for f in orders[0] if f[1] == "complete"]
    assert [t[2] for t in turns] == [c[2] for c in completes], "answered in the order stored"
