"""The reply in flight (tui.model.reply): its invariants hold through a reply's life."""

from __future__ import annotations

from tui.model.reply import ReplyInFlight


def test_a_reply_begins_grows_without_copying_and_ends_empty() -> None:
    reply = ReplyInFlight()
    assert reply.text is None and reply.take() is None
    reply.begin("m1")
    assert reply.text == "" and reply.answers == "m1"
    for piece in ("a", "b", "c"):
        reply.add(piece)
    assert reply.size == 3 and reply.parts == ["a", "b", "c"]
    assert reply.text == "abc" and reply.parts == ["abc"], "read once, joined once"
    reply.add("d")
    assert reply.take() == "abcd"
    assert reply.parts is None and reply.answers is None and reply.text is None
