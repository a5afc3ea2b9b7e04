"""What a hostile or broken server can send, through the sans-I/O protocol: every odd number,
id and size is reported and skipped, and never stops the frames after it (docs/safety.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tui.client.frames import MAX_SEQ
from tui.client.protocol import (
    Acknowledged,
    ClientProtocol,
    ReplyChunk,
    ReplyDone,
    ServerSaid,
    Strange,
)

READY = json.dumps(
    {"type": "ready", "content": "hi", "features": {"message_ids": True, "resume": True}}
)
SESSION = "dev-claude-tab"


def frame(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields})


def opened(**options: Any) -> ClientProtocol:
    protocol = ClientProtocol("tok", session_id=SESSION, **options)
    protocol.start()
    protocol.receive("authenticated")
    protocol.receive(READY)
    return protocol


def sent(protocol: ClientProtocol, *ids: str) -> None:
    for msg_id in ids:
        protocol.chat(msg_id, "q", session_id=SESSION, device_id="dev", provider="claude")


def whys(events: list[Any]) -> list[str]:
    return [e.why for e in events if isinstance(e, Strange)]


@pytest.mark.parametrize("seq", [10**30, -1, 0, 1.5, "7", True, [3], MAX_SEQ + 1])
def test_a_frame_number_that_is_no_number_is_reported_and_later_frames_go_on(seq: Any) -> None:
    protocol = opened()
    sent(protocol, "m1")
    events = protocol.receive(frame("message", content="lost", reply_to="m1", seq=seq))
    assert len(events) == 1 and "sequence number" in whys(events)[0]
    assert protocol.receive(frame("message", content="kept", reply_to="m1", seq=1)) == [
        ReplyChunk("m1", "kept")
    ]
    (done,) = protocol.receive(frame("complete", reply_to="m1", seq=2))
    assert isinstance(done, ReplyDone) and done.text == "kept"
    assert protocol.last_seq == 2


def test_the_largest_number_taken_fits_the_history() -> None:
    protocol = opened(last_seq=MAX_SEQ - 1)
    sent(protocol, "m1")
    assert protocol.receive(frame("message", content="x", reply_to="m1", seq=MAX_SEQ)) == [
        ReplyChunk("m1", "x")
    ]


def test_a_gap_that_is_never_filled_is_given_up_and_the_held_frames_are_taken() -> None:
    protocol = opened(last_seq=4)
    sent(protocol, "m1")
    assert protocol.receive(frame("message", content="b", reply_to="m1", seq=7)) == []
    assert protocol.receive(frame("complete", reply_to="m1", seq=8)) == []
    assert protocol.missing == 5
    skipped, chunk, done = protocol.skip_gap()
    assert isinstance(skipped, Strange) and skipped.frame == "frames 5–6"
    assert chunk == ReplyChunk("m1", "b") and isinstance(done, ReplyDone)
    assert protocol.missing is None and protocol.last_seq == 8
    assert protocol.skip_gap() == []


def test_held_text_is_bounded_too() -> None:
    protocol = opened(last_seq=1)
    sent(protocol, "m1")
    big = "x" * (9 * 1024 * 1024)
    assert protocol.receive(frame("message", content=big, reply_to="m1", seq=3)) == []
    events = protocol.receive(frame("message", content=big, reply_to="m1", seq=4))
    assert "never came; skipped" in whys(events)
    assert sum(len(e.text) for e in events if isinstance(e, ReplyChunk)) == 2 * len(big)


def test_frames_for_another_session_are_reported_not_taken() -> None:
    protocol = opened()
    sent(protocol, "m1")
    events = protocol.receive(
        frame("message", content="theirs", reply_to="m1", seq=1, session_id="other-claude-x")
    )
    assert "another session" in whys(events)[0]
    assert protocol.last_seq is None, "their number is not ours"
    assert protocol.receive(frame("message", content="ours", reply_to="m1", session_id=SESSION))


def test_replies_and_acks_for_ids_never_sent_are_reported_not_taken() -> None:
    asked: list[str] = []

    def is_ours(msg_id: str) -> bool:
        asked.append(msg_id)
        return msg_id == "before-restart"

    protocol = opened(is_ours=is_ours)
    for n in range(50):
        events = protocol.receive(frame("message", content="spam", reply_to=f"x{n}", seq=n + 1))
        assert "never sent" in whys(events)[0]
    assert "never sent" in whys(protocol.receive(frame("complete", reply_to="x1", seq=51)))[0]
    assert "never sent" in whys(protocol.receive(frame("ack", id="x2", state="queued")))[0]
    assert protocol.awaiting == 0
    resumed = protocol.receive(frame("message", content="mine", reply_to="before-restart"))
    assert resumed == [ReplyChunk("before-restart", "mine")]
    sent(protocol, "m1")
    assert protocol.receive(frame("ack", id="m1", state="queued")) == [Acknowledged("m1", "queued")]
    assert "m1" not in asked, "an id this socket sent needs no lookup"


def test_a_reply_over_the_limit_is_cut_once_and_ends_with_what_was_kept() -> None:
    protocol = opened(max_reply=10)
    sent(protocol, "m1")
    assert protocol.receive(frame("message", content="123456", reply_to="m1")) == [
        ReplyChunk("m1", "123456")
    ]
    first = protocol.receive(frame("message", content="7890ab", reply_to="m1"))
    assert first[0] == ReplyChunk("m1", "7890")
    assert "cut there" in whys(first)[0]
    assert protocol.receive(frame("message", content="more", reply_to="m1")) == [
        ReplyChunk("m1", "")
    ]
    (done,) = protocol.receive(frame("complete", reply_to="m1"))
    assert isinstance(done, ReplyDone) and done.text == "1234567890"


def test_error_frames_with_no_message_awaiting_are_notices_not_replies() -> None:
    protocol = opened()
    (said,) = protocol.receive(frame("error", content="[/]boom", detail="x"))
    assert isinstance(said, ServerSaid) and said.what.startswith("[/]boom (x) (while no")


def test_a_bad_reply_to_is_reported() -> None:
    protocol = opened()
    sent(protocol, "m1")
    events = protocol.receive(frame("message", content="x", reply_to=42))
    assert "reply_to 42 is not an id" in whys(events)[0]
