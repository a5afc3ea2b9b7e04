"""Fuzzing the running mock: random HTTP requests to every route, random frames down a live
WebSocket. Nothing gets a 500 or a crash, the socket keeps answering, and afterwards no session
is corrupted: the database passes SQLite's integrity check and every user turn is followed by
exactly one assistant turn. BUILDEROS_FUZZ_EXAMPLES raises the number of inputs tried."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from mock_backend import MockBackend, MockConfig
from mock_backend.wire import FrameError, parse_chat_frame
from tests.conftest import TOKEN
from tests.unit.test_frame_fuzz import DEEP, EXAMPLES, LONE, frames
from tui.client.protocol import ClientProtocol, ReplyChunk, ReplyDone, ReplyFailed

pytestmark = pytest.mark.xdist_group("live-fuzz")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockBackend]:
    """The mock on its own event loop in a thread, so hypothesis can drive it synchronously."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    root = tmp_path_factory.mktemp("fuzz")
    backend = MockBackend(
        MockConfig(
            port=0, token=TOKEN, db_path=root / "sessions.db", chunk_delay=0, failure_delay=0.0
        )  # fuzzed wrong tokens would otherwise be slowed
    )
    asyncio.run_coroutine_threadsafe(backend.start(), loop).result(30)
    yield backend
    asyncio.run_coroutine_threadsafe(backend.stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture(scope="module")
def http(live: MockBackend) -> Iterator[httpx.Client]:
    """One client for every example (making one per request costs ~0.2 s: its SSL context)."""
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


header_bytes = st.binary(max_size=60).filter(
    # control characters are not HTTP: aiohttp's parser refuses them (400) before any route;
    # every other byte, non-UTF-8 ones included, reaches the routes
    lambda value: (
        all((byte >= 32 and byte != 127) or byte == 9 for byte in value)
        and value == value.strip(b" \t")
    )  # what an HTTP client can send at all
)
segment = st.text(max_size=30).map(lambda t: quote(t, safe=""))
paths = st.one_of(
    st.sampled_from(["/api/health", "/api/status", "/api/sessions", "/api/files/upload"]),
    segment.map(lambda s: f"/api/claude/session/{s or 'x'}/close"),
    segment.map(lambda s: f"/api/codex/session/{s or 'x'}/close"),
    segment.map(lambda s: f"/uploads/{s or 'x'}"),
    segment.map(lambda s: f"/api/{s}"),
    segment.map(lambda s: f"/{s}"),
)
content_types = st.sampled_from(
    [
        None,
        "multipart/form-data",
        "multipart/form-data; boundary=b",
        "multipart/form-data; boundary=",
        "application/json",
        "text/plain",
    ]
)
bodies = st.one_of(
    st.binary(max_size=600),
    st.just(b"--b\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\nx\r\n--b--\r\n"),
    st.just(b"--b\r\nContent-Disposition: form-data; name=file\r\n\r\n" + b"y" * 100),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]),
    paths,
    st.one_of(st.none(), header_bytes),
    st.one_of(st.none(), header_bytes),
    content_types,
    bodies,
)
@example("POST", "/api/files/upload", b"\xff\xfe", None, None, b"")
@example("DELETE", "/api/claude/session/x/close", None, b"\xff", None, b"")
@example("POST", "/api/files/upload", TOKEN.encode(), None, "multipart/form-data", b"--x\r\n\r\n")
def test_no_request_gets_a_500(
    http: httpx.Client,
    method: str,
    path: str,
    api_key: bytes | None,
    authorization: bytes | None,
    content_type: str | None,
    body: bytes,
) -> None:
    headers: list[tuple[bytes, bytes]] = []
    if api_key is not None:
        headers.append((b"X-API-Key", api_key))
    if authorization is not None:
        headers.append((b"Authorization", authorization))
    if content_type is not None:
        headers.append((b"Content-Type", content_type.encode()))
    answer = http.request(method, path, headers=headers, content=body)
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    if path.startswith("/api") and method != "HEAD" and answer.status_code != 101:
        json.loads(answer.text)


def handshake(ws: ClientConnection) -> ClientProtocol:
    protocol = ClientProtocol(TOKEN)
    ws.send(protocol.start())
    while protocol.stage.value != "open":
        protocol.receive(ws.recv(timeout=30))
    return protocol


def answers(frame: str | bytes) -> bool:
    """Whether the server answers this frame (docs/protocol.md §1.2 steps 4–5: all but config
    frames and empty content), by the server's own reading of it."""
    if isinstance(frame, bytes):
        return True
    try:
        return parse_chat_frame(frame, "claude") is not None
    except FrameError:
        return True


def answered(ws: ClientConnection, protocol: ClientProtocol) -> None:
    """Send a marked message and read everything up to its reply: the socket still answers,
    in order, after whatever came before."""
    mark = uuid.uuid4().hex
    protocol.expect_reply(mark)
    ws.send(json.dumps({"content": f"barrier {mark}", "session_id": "fuzz-barrier"}))
    while True:
        for event in protocol.receive(ws.recv(timeout=30)):
            if isinstance(event, ReplyDone | ReplyFailed) and event.reply_to == mark:
                assert isinstance(event, ReplyDone), event
                return
            assert isinstance(event, ReplyChunk | ReplyDone | ReplyFailed), event


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.one_of(frames, st.binary(max_size=40)), min_size=1, max_size=5))
@example([DEEP])
@example([json.dumps({"content": f"half {LONE}", "session_id": "fuzz-lone"})])
@example([json.dumps({"content": "x", "session_id": f"s{LONE}"})])
@example(['{"content": ""}'] * 50)
def test_no_frame_stops_a_socket_or_corrupts_a_session(
    live: MockBackend, sent: list[str | bytes]
) -> None:
    with connect(live.ws_url("claude"), max_size=None, open_timeout=30) as ws:
        protocol = handshake(ws)
        for frame in sent:
            if answers(frame):
                protocol.expect_reply(uuid.uuid4().hex)  # its answer comes, in order
            ws.send(frame)
        answered(ws, protocol)


def test_after_the_fuzzing_no_session_is_corrupted(live: MockBackend) -> None:
    """Run last in this module (pytest keeps file order): the store is intact."""
    path: Path = live.config.db_path
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    corrupted = []
    for (session_id,) in db.execute("SELECT session_id FROM sessions"):
        roles = [
            r
            for (r,) in db.execute(
                "SELECT role FROM messages WHERE session_id = ? ORDER BY id", (session_id,)
            )
        ]
        pairs_ok = len(roles) % 2 == 0 and all(
            roles[i : i + 2] == ["user", "assistant"] for i in range(0, len(roles), 2)
        )
        if not pairs_ok:
            corrupted.append((session_id, roles[:10]))
    db.close()
    assert corrupted == []
