"""The tests' WebSocket client for the mock, driving the app's own `ClientProtocol`: one
reading of the wire for the app, the harness and the tests."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from mock_backend import MockBackend
from mock_backend.wire import Agent
from tests.conftest import TOKEN
from tui.client.frames import ws_url
from tui.client.protocol import ClientProtocol, Opened, ReplyChunk, ReplyDone, ReplyFailed

_ids = count(1)


@dataclass
class Client:
    """An authenticated socket and its protocol. `send`/`recv` move raw frames, for tests of
    the server's answers to frames no client would send."""

    ws: ClientConnection
    protocol: ClientProtocol

    async def send(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def recv(self) -> str | bytes:
        return await self.ws.recv()

    async def close(self) -> None:
        await self.ws.close()

    async def ping(self) -> Awaitable[float]:
        return await self.ws.ping()


@dataclass
class Turn:
    """What one reply brought, as the protocol read it."""

    end: ReplyDone | ReplyFailed
    chunks: list[str] = field(default_factory=list)
    last_frame: dict[str, Any] = field(default_factory=dict)
    """The raw frame that ended the turn (for checks of the server's wire format)."""

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def ok(self) -> bool:
        return isinstance(self.end, ReplyDone)

    @property
    def count(self) -> int | None:
        return self.end.message_count if isinstance(self.end, ReplyDone) else None

    @property
    def error(self) -> str:
        return self.end.content if isinstance(self.end, ReplyFailed) else ""


async def open_chat(
    backend: MockBackend | str, agent: Agent = "claude", *, token: str = TOKEN, **kwargs: Any
) -> Client:
    """Connect (to a backend, or a base URL) and authenticate; returns the open client."""
    url = backend.ws_url(agent) if isinstance(backend, MockBackend) else ws_url(backend, agent)
    ws = await connect(url, max_size=None, **kwargs)
    protocol = ClientProtocol(token)
    await ws.send(protocol.start())
    while protocol.stage.value != "open":
        for event in protocol.receive(await ws.recv()):
            assert not isinstance(event, Opened) or protocol.stage.value == "open"
    return Client(ws, protocol)


async def read_reply(client: Client) -> Turn:
    """Frames up to and including the turn's `complete` or `error`."""
    if not client.protocol.awaiting:
        client.protocol.expect_reply(f"t{next(_ids)}")  # answers a frame sent raw
    chunks: list[str] = []
    while True:
        raw = await client.ws.recv()
        for event in client.protocol.receive(raw):
            match event:
                case ReplyChunk(_, text):
                    chunks.append(text)
                case ReplyDone() | ReplyFailed():
                    return Turn(event, chunks, json.loads(raw))
                case _:
                    raise AssertionError(f"unexpected during a reply: {event}")


async def ask(client: Client, content: str, session_id: str, **extra: Any) -> Turn:
    """Send a chat frame (extra fields as given, e.g. `device_id`, `attachments`); its reply."""
    client.protocol.expect_reply(f"t{next(_ids)}")
    await client.ws.send(json.dumps({"content": content, "session_id": session_id, **extra}))
    return await read_reply(client)
