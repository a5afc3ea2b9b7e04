"""A conversation exported: Markdown with authors and times; JSON that reads back into the
same messages, and refuses what it did not write."""

from __future__ import annotations

import json

import pytest

from tui.client.activity import Activity, ActivityItem, Diff, PlanEntry
from tui.client.attachments import Attachment
from tui.client.history import RemoteMessage
from tui.model.export import (
    Conversation,
    NotAConversation,
    from_backend,
    from_json,
    to_json,
    to_markdown,
)
from tui.store import StoredMessage

MESSAGES = [
    StoredMessage(
        "m1", "user", "Show me a **function**", "acknowledged", "2026-11-22T10:00:00+00:00", 7
    ),
    StoredMessage(
        "m1:reply",
        "assistant",
        "```python\ndef f(): ...\n```",
        "complete",
        "2026-11-22T10:00:05+00:00",
    ),
    StoredMessage(
        "m2",
        "user",
        "And then? “quotes” \\ é 🐍",
        "acknowledged",
        "2026-11-22T10:01:00+00:00",
        attachments=(
            Attachment(
                "a1", "notes [v2].txt", "text/plain", 1200, "document", "http://h/uploads/n.txt"
            ),
        ),
    ),
    StoredMessage(
        "m2:reply", "assistant", "Half an answer", "interrupted", "2026-11-22T10:01:02+00:00"
    ),
    StoredMessage("e1", "error", "BridgeHub failed", "error", "2026-11-22T10:01:03+00:00"),
]


def conversation() -> Conversation:
    return Conversation("DEV-claude-T1", list(MESSAGES), "Reviews", "claude")


def test_json_reads_back_into_the_same_messages() -> None:
    back = from_json(to_json(conversation()))
    assert [
        (m.msg_id, m.role, m.text, m.status, m.timestamp, m.attachments) for m in back.messages
    ] == [(m.msg_id, m.role, m.text, m.status, m.timestamp, m.attachments) for m in MESSAGES]
    assert (back.session_id, back.title, back.provider) == ("DEV-claude-T1", "Reviews", "claude")
    original = conversation()
    assert to_json(from_json(to_json(original))) == to_json(original)


def test_markdown_says_who_wrote_what_and_when() -> None:
    text = to_markdown(conversation())
    assert text.startswith("# Reviews\n")
    assert "## You · 2026-11-22 10:00:00\n\nShow me a **function**" in text
    assert "## Jarvis · 2026-11-22 10:00:05\n\n```python" in text
    assert "## Jarvis · 2026-11-22 10:01:02 · interrupted" in text
    assert "- 📎 [notes \\[v2\\].txt · 1.2 KB](<http://h/uploads/n.txt>)" in text
    assert "## Error · 2026-11-22 10:01:03\n\nBridgeHub failed" in text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"format": "other"}',
        '{"format": "builderos-conversation", "version": 9}',
        '{"format": "builderos-conversation", "version": 1, "session_id": "s", "messages": [{}]}',
    ],
)
def test_json_that_is_not_a_conversation_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(NotAConversation):
        from_json(text)


WORK = Activity(
    (
        ActivityItem("t1", "read", "Read a.py", "completed", at=12, duration_ms=120),
        ActivityItem(
            "t2", "edit", "Edit a.py", "failed", at=23, diff=Diff("a.py", "old\n", "new\n")
        ),
    ),
    (PlanEntry("Read", "completed"), PlanEntry("Fix", "in_progress")),
    (("input_tokens", 10.0),),
)
WORKED = StoredMessage(
    "m1:reply", "assistant", "Let me see\n\nFound it.\n\nDone.", "complete", "2026", activity=WORK
)


def test_the_agents_work_is_kept_whole_in_json_and_outlined_in_markdown() -> None:
    conversation = Conversation("s1", [WORKED], "Fix", "claude")
    assert from_json(to_json(conversation)).messages == [WORKED]
    text = to_markdown(conversation)
    assert "- [x] Read\n- [~] Fix" in text
    order = [text.index(s) for s in ("Let me see", "→ Read a.py — completed · 120 ms", "Found it",
                                     "✎ Edit a.py — failed", "Done.")]  # fmt: skip
    assert order == sorted(order), "the work where it happened"


def test_the_backends_history_brings_the_work_with_the_reply() -> None:
    remote = RemoteMessage(
        2, "assistant", "Done.", "2026", {"status": "complete", **json.loads(WORK.dumps() or "")}
    )
    [reply] = from_backend([remote])
    assert reply.activity == WORK
