"""The reply in flight (tui.model.reply): its invariants hold through a reply's life."""

from __future__ import annotations

from tui.client.activity import Answer
from tui.model.reply import Began, Ended, Grew, Reopened, ReplyInFlight, ReplyState
from tui.store import Status, StoredMessage


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


def _stored(text: str, status: Status) -> StoredMessage:
    return StoredMessage("m1:reply", "assistant", text, status, "t", row=7)


def test_a_new_reply_begins_grows_and_ends_as_a_new_message() -> None:
    reply = ReplyInFlight()
    states = [reply.state]
    assert reply.chunk("m1", "Hel", None) == Began("m1", "Hel")
    states.append(reply.state)
    assert reply.chunk("m1", "lo", None) == Grew("lo")
    assert [m.text for m in reply.progress("t")] == ["Hello"] and reply.writing
    ended = reply.end("m1", "complete", None, None, "t2")
    assert ended == Ended(StoredMessage("m1:reply", "assistant", "Hello", "complete", "t2"), None)
    states.append(reply.state)
    assert states == [ReplyState.IDLE, ReplyState.STREAMING, ReplyState.IDLE]
    assert reply.progress("t") == []


def test_a_reply_cut_at_the_last_quit_is_finished_in_place_as_new_values() -> None:
    reply = ReplyInFlight()
    cut = _stored("half", "interrupted")
    step = reply.chunk("m1", " and the rest", cut)
    assert isinstance(step, Reopened) and step.first
    assert step.message.text == "half and the rest" and step.message.status == "replying"
    assert cut.text == "half", "the value the view holds never changes"
    states = [reply.state]
    again = reply.chunk("m1", ".", step.message)
    assert isinstance(again, Reopened) and not again.first
    assert reply.progress("t") == [again.message]
    ended = reply.end("m1", "complete", None, again.message, "t")
    assert ended is not None and ended.finishes is again.message
    assert ended.message.text == "half and the rest." and ended.message.row == 7
    states.append(reply.state)
    assert states == [ReplyState.REOPENED, ReplyState.IDLE]


def test_an_answer_first_after_a_restart_reopens_the_cut_reply_that_asked() -> None:
    reply = ReplyInFlight()
    answer = Answer("a1", "call1", "allow_once", "this device")
    assert reply.answered(answer, _stored("half", "complete")) is None, "a whole reply: no"
    changed = reply.answered(answer, _stored("half", "interrupted"))
    assert changed is not None and changed.status == "replying"
    assert changed.activity.answers == (answer,) and reply.state is ReplyState.REOPENED
    assert reply.progress("t") == [changed], "saved with the answer"


def test_a_first_resume_replays_a_cut_reply_from_its_start_and_skips_whole_ones() -> None:
    reply = ReplyInFlight(replaying_all=True)
    assert reply.chunk("m1", "anything", _stored("done", "complete")) is None
    assert reply.end("m1", "complete", None, _stored("done", "complete"), "t") is None
    first = reply.chunk("m1", "ha", _stored("half", "interrupted"))
    assert isinstance(first, Reopened) and first.message.text == "ha", "it all comes again"
    second = reply.chunk("m1", "lf", first.message)
    assert isinstance(second, Reopened) and second.message.text == "half"
    reply.resumed()
    assert not reply.replaying_all


def test_the_saved_frame_number_moves_only_when_a_save_names_one() -> None:
    reply = ReplyInFlight(saved_seq=4)
    reply.saved(None)
    assert reply.saved_seq == 4
    reply.saved(9)
    assert reply.saved_seq == 9
