"""What `builderos watch` makes of a session's events (tui.commands.following), without a
socket: the replay is the past and is not shown, except a reply still being written when it
ends; then every turn, piece, tool call and end as it comes, each tool call once per status."""

from __future__ import annotations

import io

from tui.client import protocol as wire
from tui.client.activity import ActivityItem
from tui.client.connection import ClientEvent
from tui.client.sync import Device, Turn
from tui.commands.following import RECORDS, Follower
from tui.commands.watch import Printer


def turn(msg_id: str, text: str, device: str = "PHONE") -> wire.TurnReported:
    return wire.TurnReported(Turn(msg_id, text, Device(device), "2026-12-07T10:00:00"))


def test_the_replay_is_the_past_but_a_reply_in_progress_is_shown_from_its_turn() -> None:
    follower = Follower("S")
    past: list[ClientEvent] = [
        turn("m1", "old question"),
        wire.ReplyChunk("m1", "old answer"),
        wire.ReplyDone("m1", "old answer", 1, 2, None),
        turn("m2", "still running", "MAC"),
        wire.ReplyChunk("m2", "half of "),
    ]
    assert [r for e in past for r in follower.take(e)] == []
    live = follower.take(wire.ResumeDone(9))
    assert [r["event"] for r in live] == ["turn", "chunk"]
    assert live[0]["text"] == "still running" and live[1]["text"] == "half of "
    now: list[ClientEvent] = [
        wire.ReplyChunk("m2", "it"),
        wire.ActivityReported("m2", ActivityItem("t1", "read", "Read a", "running")),
        wire.ActivityReported("m2", ActivityItem("t1", "read", "Read a", "running")),
        wire.ActivityReported("m2", ActivityItem("t1", "read", "Read a", "completed")),
        wire.ReplyDone("m2", "half of it", 2, 4, None),
        wire.PresenceChanged((Device("MAC", "mac"),)),
        wire.SessionClosed("PHONE"),
    ]
    records = [r for e in now for r in follower.take(e)]
    assert [r["event"] for r in records] == [
        "chunk", "activity", "activity", "end", "presence", "closed"
    ]  # fmt: skip
    assert {r["event"] for r in [*live, *records]} <= set(RECORDS)
    assert records[3] == {"event": "end", "reply_to": "m2", "status": "complete", "detail": ""}


def test_text_output_puts_the_conversation_on_stdout_and_the_rest_on_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = Printer("Jarvis", False, out, err)
    follower = Follower("S")
    follower.take(wire.ResumeDone(0))
    events: list[ClientEvent] = [
        turn("m1", "hi \x1b]52;c;bad\x07"),
        wire.ReplyChunk("m1", "hello"),
        wire.ActivityReported("m1", ActivityItem("t1", "execute", "Run ls", "completed")),
        wire.ReplyStopped("m1", "hello"),
    ]
    for event in events:
        for record in follower.take(event):
            printer.show(record)
    printer.done()
    text = out.getvalue()
    assert "── You (on PHONE) · 10:00:00 ──" in text and "── Jarvis ──\nhello\n" in text
    assert "\x1b" not in err.getvalue()
    assert "$ Run ls  ✓" in err.getvalue() and "[the reply ended stopped]" in err.getvalue()
