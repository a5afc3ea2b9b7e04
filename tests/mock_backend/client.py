"""A minimal protocol client for testing the mock from the outside, with real sockets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from mock_backend import MockBackend
from tests.conftest import TOKEN


@dataclass
class Reply:
    chunks: list[str] = field(default_factory=list)
    end: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def ok(self) -> bool:
        return self.end.get("type") == "complete"


async def open_chat(backend: MockBackend, agent: str = "claude", **kwargs: Any) -> ClientConnection:
    """Connect and authenticate; returns the socket after `ready`."""
    ws = await connect(backend.ws_url(agent), max_size=None, **kwargs)  # type: ignore[arg-type]
    await ws.send(TOKEN)
    assert await ws.recv() == "authenticated"
    ready = json.loads(await ws.recv())
    assert ready["type"] == "ready"
    return ws


async def read_reply(ws: ClientConnection) -> Reply:
    """Frames up to and including the turn's `complete` or `error`."""
    reply = Reply()
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] in ("message", "stream"):
            reply.chunks.append(frame["content"])
        else:
            reply.end = frame
            return reply


async def ask(ws: ClientConnection, content: str, session_id: str, **extra: Any) -> Reply:
    await ws.send(json.dumps({"content": content, "session_id": session_id, **extra}))
    return await read_reply(ws)
