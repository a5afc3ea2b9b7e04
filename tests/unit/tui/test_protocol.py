"""The sans-I/O client protocol: frames in, events out, no socket and no event loop."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.client.protocol import (
    Acknowledged,
    ClientProtocol,
    HandshakeFailed,
    NotConfirmed,
    Opened,
    ProtocolError,
    Refused,
    ReplyChunk,
    ReplyDone,
    ReplyFailed,
    ReplyInterrupted,
    ReplyStopped,
    Requeued,
    ResumeDone,
    ServerSaid,
    Stage,
    Strange,
    TokenAccepted,
)

READY = json.dumps({"type": "ready", "content": "hi", "features": {"streaming": True}})


def chunk(text: str) -> str:
    return json.dumps({"type": "message", "content": text, "timestamp": "t"})


def complete(count: int = 2) -> str:
    return json.dumps({"type": "complete", "content": "Response complete", "message_count": count})


def opened() -> ClientProtocol:
    protocol = ClientProtocol("tok")
    assert protocol.start() == "tok"
    assert protocol.receive("authenticated") == [TokenAccepted()]
    assert protocol.receive(READY) == [Opened("hi", {"streaming": True})]
    return protocol


def ask(protocol: ClientProtocol, msg_id: str, text: str = "hello") -> dict[str, object]:
    frame = protocol.chat(msg_id, text, session_id="d-claude-t", device_id="d", provider="claude")
    return json.loads(frame)


def test_the_handshake_in_order_opens_the_socket() -> None:
    protocol = opened()
    assert protocol.stage is Stage.OPEN and protocol.features == {"streaming": True}


def test_a_refused_token_and_the_ios_config_echo() -> None:
    protocol = ClientProtocol("bad")
    protocol.start()
    assert protocol.receive('{"working_directory": "/x"}') == [], "ignored before ready"
    assert protocol.receive("error:invalid_api_key") == [Refused("invalid_api_key")]
    assert protocol.stage is Stage.REFUSED


def test_a_frame_the_handshake_does_not_allow_fails_it_naming_the_frame() -> None:
    protocol = ClientProtocol("tok")
    protocol.start()
    (failed,) = protocol.receive(chunk("too early"))
    assert isinstance(failed, HandshakeFailed) and "too early" in failed.frame
    assert failed.why == "expected `authenticated`" and protocol.stage is Stage.FAILED


def test_out_of_order_use_is_a_programming_error() -> None:
    protocol = ClientProtocol("tok")
    with pytest.raises(ProtocolError):
        ask(protocol, "m1")
    protocol.start()
    with pytest.raises(ProtocolError):
        protocol.start()


def test_the_chat_frame_carries_the_contract_fields() -> None:
    frame = ask(opened(), "m1", "hello")
    assert frame == {
        "content": "hello",
        "session_id": "d-claude-t",
        "device_id": "d",
        "chat_type": "jarvis",
    }


def test_replies_follow_the_order_messages_were_sent() -> None:
    protocol = opened()
    ask(protocol, "m1")
    ask(protocol, "m2")
    assert protocol.receive(chunk("one ")) == [ReplyChunk("m1", "one ")]
    assert protocol.receive(chunk("two")) == [ReplyChunk("m1", "two")]
    assert protocol.receive(complete(2)) == [ReplyDone("m1", "one two", 2, 2, None)]
    assert protocol.receive(chunk("next")) == [ReplyChunk("m2", "next")]
    assert protocol.awaiting == 1


def test_an_error_frame_ends_the_reply_and_keeps_its_partial_text() -> None:
    protocol = opened()
    ask(protocol, "m1")
    protocol.receive(chunk("half"))
    (failed,) = protocol.receive(json.dumps({"type": "error", "content": "boom", "detail": "x"}))
    assert failed == ReplyFailed("m1", "boom", "x", "half")
    assert failed.message == "boom (x)" and protocol.awaiting == 0


def test_a_lost_connection_interrupts_replies_and_leaves_unanswered_ones_unconfirmed() -> None:
    protocol = opened()
    ask(protocol, "m1")
    ask(protocol, "m2")
    protocol.receive(chunk("partial"))
    assert protocol.connection_lost() == [
        ReplyInterrupted("m1", "partial"),
        NotConfirmed("m2"),
    ]
    assert protocol.awaiting == 0


def test_a_withdrawn_message_awaits_no_reply() -> None:
    protocol = opened()
    ask(protocol, "m1")
    ask(protocol, "m2")
    protocol.withdraw("m1")
    assert protocol.receive(chunk("x")) == [ReplyChunk("m2", "x")]


def test_frames_outside_a_reply_are_reported_not_lost() -> None:
    """A reply nobody asked for is given whole when it ends (not streamed as if it answered
    something); the same text again is recognised as a repeat; an empty one is reported."""
    protocol = opened()
    assert protocol.receive(chunk("stray")) == []
    assert protocol.receive(complete()) == [ReplyDone(None, "stray", 1, 2, None)]
    protocol.receive(chunk("stray"))
    (again,) = protocol.receive(complete())
    assert isinstance(again, Strange) and "again" in again.why
    (empty,) = protocol.receive(complete())
    assert isinstance(empty, Strange) and "no message awaited" in empty.why
    assert protocol.receive("error:rate_limited") == [ServerSaid("rate_limited")]
    (strange,) = protocol.receive('{"type": "telemetry"}')
    assert isinstance(strange, Strange) and "telemetry" in strange.why


def test_codex_usage_and_stream_chunks() -> None:
    protocol = opened()
    ask(protocol, "m1")
    assert protocol.receive(json.dumps({"type": "stream", "content": "c"})) == [
        ReplyChunk("m1", "c")
    ]
    usage = {"input_tokens": 3, "output_tokens": 4, "bogus": "x"}
    (done,) = protocol.receive(json.dumps({"type": "complete", "usage": usage}))
    assert done == ReplyDone("m1", "c", 1, None, {"input_tokens": 3, "output_tokens": 4})


@given(st.lists(st.one_of(st.text(max_size=200), st.binary(max_size=50)), max_size=20))
def test_no_sequence_of_frames_makes_it_raise(frames: list[str | bytes]) -> None:
    for start_open in (False, True):
        protocol = opened() if start_open else ClientProtocol("tok")
        if not start_open:
            protocol.start()
        for frame in frames:
            protocol.receive(frame)
        protocol.connection_lost()


# the delivery extension (docs/protocol.md) ------------------------------------------------------

DELIVERY_READY = json.dumps(
    {
        "type": "ready",
        "content": "",
        "features": {"message_ids": True, "resume": True, "stop": True},
    }
)


def delivering(last_seq: int | None = None) -> ClientProtocol:
    protocol = ClientProtocol("tok", last_seq=last_seq)
    protocol.start()
    protocol.receive("authenticated")
    protocol.receive(DELIVERY_READY)
    assert protocol.delivery
    return protocol


def numbered(seq: int, kind: str, reply_to: str = "m1", **extra: object) -> str:
    return json.dumps({"type": kind, "seq": seq, "reply_to": reply_to, **extra})


def test_with_delivery_a_chat_frame_carries_its_id_and_is_acknowledged() -> None:
    protocol = delivering()
    assert ask(protocol, "m1")["id"] == "m1"
    assert protocol.unacknowledged == 1
    ack = json.dumps({"type": "ack", "id": "m1", "state": "queued", "seq": 1})
    assert protocol.receive(ack) == [Acknowledged("m1", "queued")]
    assert protocol.unacknowledged == 0 and protocol.last_seq == 1


def test_a_reference_server_gets_no_id() -> None:
    assert "id" not in ask(opened(), "m1")


def test_numbered_frames_are_taken_once_and_in_order() -> None:
    protocol = delivering(last_seq=0)
    ask(protocol, "m1")
    assert protocol.receive(numbered(2, "message", content="b")) == [], "early: held"
    assert protocol.receive(numbered(1, "message", content="a")) == [
        ReplyChunk("m1", "a"),
        ReplyChunk("m1", "b"),
    ]
    assert protocol.receive(numbered(2, "message", content="b")) == [], "a duplicate"
    assert protocol.duplicates == 1
    done = protocol.receive(numbered(3, "complete", message_count=2))
    assert done == [ReplyDone("m1", "ab", 2, 2, None)]


def test_a_drop_requeues_unacknowledged_messages_and_carries_acknowledged_replies() -> None:
    protocol = delivering(last_seq=0)
    ask(protocol, "m1", "first")
    ask(protocol, "m2", "second")
    protocol.receive(json.dumps({"type": "ack", "id": "m1", "seq": 1}))
    protocol.receive(numbered(2, "message", content="half"))
    assert protocol.connection_lost() == [Requeued("m2", "second")]
    carried = protocol.carry()
    assert [a.msg_id for a in carried] == ["m1"]
    again = ClientProtocol("tok", last_seq=protocol.last_seq, carried=carried)
    again.start()
    again.receive("authenticated")
    again.receive(DELIVERY_READY)
    assert json.loads(again.resume("s")) == {"type": "resume", "session_id": "s", "after": 2}
    assert again.receive(numbered(3, "message", content=" more")) == [ReplyChunk("m1", " more")]
    assert again.receive(numbered(4, "complete")) == [ReplyDone("m1", "half more", 2, None, None)]


def test_a_requeued_message_keeps_its_attachments() -> None:
    protocol = delivering(last_seq=0)
    files = [{"id": "a1", "filename": "notes.txt", "url": "http://h/uploads/notes.txt"}]
    frame = json.loads(
        protocol.chat(
            "m1", "see file", session_id="s", device_id="d", provider="claude", attachments=files
        )
    )
    assert frame["attachments"] == files
    assert protocol.connection_lost() == [Requeued("m1", "see file", tuple(files))]


def test_resumed_ends_replies_the_server_no_longer_has() -> None:
    protocol = delivering(last_seq=0)
    ask(protocol, "m1")
    protocol.receive(json.dumps({"type": "ack", "id": "m1", "seq": 1}))
    protocol.receive(numbered(2, "message", content="x"))
    resumed = json.dumps({"type": "resumed", "session_id": "s", "seq": 2, "running": []})
    assert protocol.receive(resumed) == [
        ReplyInterrupted("m1", "x", "the server lost this reply"),
        ResumeDone(2),
    ]


def test_stop_asks_a_server_that_can_and_ends_locally_on_one_that_cannot() -> None:
    protocol = delivering()
    ask(protocol, "m1")
    frame, events = protocol.stop("s", "m1")
    assert frame is not None and json.loads(frame) == {
        "type": "stop",
        "session_id": "s",
        "id": "m1",
    }
    assert events == []
    assert protocol.receive(numbered(1, "stopped")) == [ReplyStopped("m1", "")]
    legacy = opened()
    ask(legacy, "m1")
    legacy.receive(chunk("some"))
    assert legacy.stop("s", "m1") == (None, [ReplyStopped("m1", "some")])
    assert legacy.receive(chunk(" more")) == [] and legacy.receive(complete()) == []
    assert legacy.awaiting == 0


def test_a_socket_that_never_opened_ends_nothing_it_carried() -> None:
    protocol = delivering(last_seq=0)
    ask(protocol, "m1")
    protocol.receive(json.dumps({"type": "ack", "id": "m1", "seq": 1}))
    protocol.connection_lost()
    carried = protocol.carry()
    refused_at_connect = ClientProtocol("tok", last_seq=1, carried=carried)
    assert refused_at_connect.connection_lost() == [], "the server was down: nothing is known yet"
    assert [a.msg_id for a in refused_at_connect.carry()] == ["m1"]
    assert refused_at_connect.connection_lost(final=True) == [ReplyInterrupted("m1", "")]
