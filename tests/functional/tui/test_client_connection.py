"""The tab connection against the mock backend on an ephemeral port, with real sockets."""

from __future__ import annotations

import socket

import httpx
import pytest
import respx

from mock_backend import MockBackend
from tests.conftest import TOKEN, BackendFactory, url_of
from tests.functional.tui.recorder import Recorder
from tui.client.backoff import Backoff
from tui.client.connection import Delivered, Outgoing, TabConnection
from tui.client.http import close_session
from tui.client.protocol import ReplyChunk, ReplyDone, ReplyFailed, ReplyInterrupted
from tui.client.state import Phase


def _connection(
    url: str, rec: Recorder, *, token: str = TOKEN, session: str = "dev-claude-tab"
) -> TabConnection:
    return TabConnection(
        base_url=url,
        token=token,
        provider="claude",
        session_id=session,
        device_id="dev",
        on_event=rec,
        backoff=Backoff(base=0.05, cap=0.2),
    )


async def test_connect_send_and_stream_a_reply(backend: MockBackend) -> None:
    rec = Recorder()
    conn = _connection(backend.url, rec)
    conn.start()
    await rec.wait_phase(Phase.CONNECTED)
    conn.send("m1", "Remember the code word LIME-4")
    done = await rec.wait_for(lambda e: isinstance(e, ReplyDone))
    assert done.reply_to == "m1" and done.message_count == 2
    chunks = [e.text for e in rec.of(ReplyChunk) if e.reply_to == "m1"]
    assert "".join(chunks) == done.text and len(chunks) >= 2
    assert rec.of(Delivered) == [Delivered("m1")]

    conn.send("m2", "What was the code word?")
    done2 = await rec.wait_for(lambda e: isinstance(e, ReplyDone) and e.reply_to == "m2")
    assert "LIME-4" in done2.text and done2.message_count == 4
    assert [s["session_id"] for s in backend.registry.summaries()] == ["dev-claude-tab"]
    await conn.stop()


async def test_error_frame_ends_the_reply(backend: MockBackend) -> None:
    rec = Recorder()
    conn = _connection(backend.url, rec)
    conn.start()
    conn.send("m1", "/fail out of tokens")
    failed = await rec.wait_for(lambda e: isinstance(e, ReplyFailed))
    assert failed.reply_to == "m1" and "out of tokens" in failed.content
    assert not conn.busy
    await conn.stop()


async def test_wrong_token_stops_retrying_until_asked(backend: MockBackend) -> None:
    rec = Recorder()
    conn = _connection(backend.url, rec, token="wrong")
    conn.start()
    refused = await rec.wait_phase(Phase.AUTH_FAILED)
    assert refused.state.detail == "invalid_api_key"
    assert conn.connects == 1
    conn.send("m1", "kept for later")
    conn.reconnect_now()
    await rec.wait_phase(Phase.CONNECTING, after=rec.events.index(refused) + 1)
    await rec.wait_phase(Phase.AUTH_FAILED, after=rec.events.index(refused) + 1)
    assert conn.connects == 2 and list(conn.outbox) == [Outgoing("m1", "kept for later")]
    await conn.stop()


async def test_message_typed_while_the_server_is_down_is_delivered_later(
    start_backend: BackendFactory, refusing_socket: socket.socket
) -> None:
    url = url_of(refusing_socket)
    rec = Recorder()
    conn = _connection(url, rec)
    conn.start()
    unreachable = await rec.wait_phase(Phase.UNREACHABLE)
    assert unreachable.state.detail == url
    assert unreachable.state.retry_at is not None
    conn.send("m1", "sent while down")
    assert rec.of(Delivered) == []
    await start_backend(sock=refusing_socket)
    conn.reconnect_now()
    done = await rec.wait_for(lambda e: isinstance(e, ReplyDone))
    assert done.reply_to == "m1" and "sent while down" in done.text
    await conn.stop()


async def test_drop_mid_reply_interrupts_it_and_reconnects_with_one_socket(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(chunk_delay=0.005)
    rec = Recorder()
    conn = _connection(backend.url, rec)
    conn.start()
    await rec.wait_phase(Phase.CONNECTED)
    conn.send("long", "/long 4000")
    await rec.wait_for(lambda e: isinstance(e, ReplyChunk))
    await backend.stop()
    interrupted = await rec.wait_for(lambda e: isinstance(e, ReplyInterrupted))
    assert interrupted.reply_to == "long" and interrupted.partial
    mark = len(rec.events)
    waiting = await rec.wait_for(
        lambda e: getattr(getattr(e, "state", None), "retry_at", None) is not None, after=mark
    )
    assert waiting.state.phase in (Phase.RECONNECTING, Phase.UNREACHABLE)

    again = await start_backend(port=backend.port)  # the port the backend chose, again
    conn.reconnect_now()
    await rec.wait_phase(Phase.CONNECTED, after=mark)
    assert again.sockets["claude"].connections == 1
    conn.send("m2", "still the same session?")
    done = await rec.wait_for(lambda e: isinstance(e, ReplyDone) and e.reply_to == "m2")
    assert done.message_count == 4, "the interrupted turn and this one, on the same session"
    assert again.sockets["claude"].connections == 1, "never two live sockets for one tab"
    await conn.stop()


async def test_close_against_the_mock_200_then_404(backend: MockBackend) -> None:
    rec = Recorder()
    conn = _connection(backend.url, rec, session="dev-claude-closeme")
    conn.start()
    conn.send("m1", "hi")
    await rec.wait_for(lambda e: isinstance(e, ReplyDone))
    await conn.stop()
    first = await close_session(backend.url, TOKEN, "claude", "dev-claude-closeme")
    assert (first.closed, first.status) == (True, 200)
    second = await close_session(backend.url, TOKEN, "claude", "dev-claude-closeme")
    assert (second.closed, second.status) == (True, 404)
    refused = await close_session(backend.url, "wrong", "claude", "dev-claude-closeme")
    assert (refused.closed, refused.status) == (False, 401) and "token" in refused.message


@respx.mock
@pytest.mark.parametrize(
    ("status", "closed", "words"),
    [(200, True, "closed"), (404, True, "already"), (401, False, "401"), (500, False, "500")],
)
async def test_close_answers(status: int, closed: bool, words: str) -> None:
    route = respx.delete("http://h/api/codex/session/s-1/close").mock(
        return_value=httpx.Response(status)
    )
    result = await close_session("http://h", "tok", "codex", "s-1")
    assert (result.closed, result.status) == (closed, status) and words in result.message
    assert route.calls.last.request.headers["Authorization"] == "tok", "raw token, no Bearer"


@respx.mock
async def test_close_when_the_backend_is_unreachable() -> None:
    respx.delete("http://h/api/claude/session/s/close").mock(
        side_effect=httpx.ConnectError("refused")
    )
    result = await close_session("http://h", "tok", "claude", "s")
    assert result.closed is False and result.status is None and "could not reach" in result.message
