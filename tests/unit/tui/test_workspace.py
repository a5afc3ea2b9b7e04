"""The tab model without a screen or a socket: it alone decides which tabs are open and which
is selected, and reports every change to its observers, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.client import protocol as wire
from tui.client.attachments import Attachment
from tui.client.connection import ClientEvent, Outgoing
from tui.model.workspace import (
    MAX_TABS,
    Change,
    LastTab,
    MessageChanged,
    SelectionChanged,
    TabActivity,
    TabClosed,
    TabLimitReached,
    TabOpened,
    TabRenamed,
    Workspace,
)
from tui.store import ChatStore, StoredMessage


@pytest.fixture
def store(tmp_path: Path) -> ChatStore:
    return ChatStore(tmp_path / "history.db")


def workspace(store: ChatStore) -> tuple[Workspace, list[Change]]:
    changes: list[Change] = []
    ws = Workspace(store, base_url="http://127.0.0.1:9", token="t", device_id="DEV")
    ws.observe(changes.append)
    return ws, changes


def test_a_first_start_opens_one_claude_tab_and_selects_it(store: ChatStore) -> None:
    ws, changes = workspace(store)
    ws.restore()
    (tab,) = ws.tabs
    assert tab.provider == "claude" and tab.session_id.startswith("DEV-claude-")
    assert changes == [TabOpened(tab.tab_id), SelectionChanged(tab.tab_id)]


def test_select_is_the_one_writer_and_says_so_once(store: ChatStore) -> None:
    ws, changes = workspace(store)
    ws.restore()
    second = ws.add_tab("codex")
    changes.clear()
    ws.select(second.tab_id)
    ws.select(second.tab_id)  # already selected: nothing to say
    assert changes == [SelectionChanged(second.tab_id)]
    assert ws.selected is second
    with pytest.raises(KeyError):
        ws.select("no-such-tab")
    assert ws.selected is second


def test_next_and_previous_wrap_around(store: ChatStore) -> None:
    ws, _ = workspace(store)
    ws.restore()
    tabs = [ws.tabs[0], ws.add_tab("codex"), ws.add_tab("claude")]
    ws.select_relative(-1)
    assert ws.selected is tabs[2]
    ws.select_relative(1)
    ws.select_relative(1)
    assert ws.selected is tabs[1]


def test_closing_the_selected_tab_selects_its_neighbour_before_it_goes(store: ChatStore) -> None:
    ws, changes = workspace(store)
    ws.restore()
    first, second, third = ws.tabs[0], ws.add_tab("codex"), ws.add_tab("claude")
    ws.select(second.tab_id)
    changes.clear()
    closing = ws.close_tab(second.tab_id)
    closing.close()  # the disconnect and the close call are not run here
    assert changes == [SelectionChanged(third.tab_id), TabClosed(second.tab_id)]
    assert [t.tab_id for t in ws.tabs] == [first.tab_id, third.tab_id]
    ws.select(first.tab_id)
    ws.close_tab(third.tab_id).close()
    with pytest.raises(LastTab):
        ws.close_tab(first.tab_id).close()  # raises before a coroutine is made


def test_five_tabs_at_most(store: ChatStore) -> None:
    ws, _ = workspace(store)
    ws.restore()
    for _ in range(MAX_TABS - 1):
        ws.add_tab("codex")
    with pytest.raises(TabLimitReached):
        ws.add_tab("claude")
    assert len(ws.tabs) == MAX_TABS


def test_a_restart_restores_tabs_titles_and_the_selection(store: ChatStore) -> None:
    ws, _ = workspace(store)
    ws.restore()
    second = ws.add_tab("codex")
    ws.rename(second.tab_id, "  Reviews  ")
    ws.select(second.tab_id)
    again, changes = workspace(store)
    again.restore()
    assert [(t.tab_id, t.title) for t in again.tabs] == [
        (ws.tabs[0].tab_id, "Claude"),
        (second.tab_id, "Reviews"),
    ]
    assert again.selected.tab_id == second.tab_id
    assert changes[-1] == SelectionChanged(second.tab_id)


def test_an_observer_can_stop_and_renames_are_reported(store: ChatStore) -> None:
    ws, changes = workspace(store)
    ws.restore()
    tab = ws.tabs[0]
    late: list[Change] = []
    stop = ws.observe(late.append)
    ws.rename(tab.tab_id, "")
    stop()
    stop()  # stopping twice is harmless
    ws.rename(tab.tab_id, "Later")
    assert late == [TabRenamed(tab.tab_id)]
    assert tab.title == "Later" and changes[-2:] == [TabRenamed(tab.tab_id)] * 2


def test_a_message_still_pending_at_quit_is_sent_after_the_restart(store: ChatStore) -> None:
    ws, _ = workspace(store)
    ws.restore()
    tab = ws.tabs[0]
    typed = ws.send(tab.tab_id, "typed while the backend was down")
    assert typed.status == "pending"
    again, _ = workspace(store)  # the app quit before it could be written, and starts again
    again.restore()
    connection = again.tabs[0].connection
    assert connection is not None
    assert list(connection.outbox) == [Outgoing(typed.msg_id, "typed while the backend was down")]


def test_a_message_with_files_goes_again_with_them_after_a_restart(store: ChatStore) -> None:
    ws, _ = workspace(store)
    ws.restore()
    tab = ws.tabs[0]
    notes = Attachment("a1", "notes.txt", "text/plain", 3, "document", "http://h/uploads/notes.txt")
    ws.set_draft_attachments(tab.tab_id, (notes,))
    again, _ = workspace(store)
    again.restore()
    assert again.tabs[0].draft_attachments == (notes,), "kept with the draft"
    typed = again.send(tab.tab_id, "see the file", (notes,))
    assert not again.tabs[0].draft_attachments, "sent with the message"
    third, _ = workspace(store)
    third.restore()
    connection = third.tabs[0].connection
    assert connection is not None
    assert list(connection.outbox) == [Outgoing(typed.msg_id, "see the file", (notes.wire(),))]
    assert third.tabs[0].messages[-1].attachments == (notes,)


def test_tabs_belong_to_their_backend(store: ChatStore) -> None:
    demo = Workspace(store, base_url="http://127.0.0.1:9", token="t", device_id="D", backend="demo")
    demo.restore()
    demo.rename(demo.tabs[0].tab_id, "Demo chat")
    mac = Workspace(store, base_url="http://mac:8080/", token="t", device_id="D")
    mac.restore()
    assert [t.title for t in mac.tabs] == ["Claude"], "the demo's tab is not shown to the Mac"
    assert mac.tabs[0].session_id != demo.tabs[0].session_id
    again = Workspace(
        store, base_url="http://127.0.0.1:12345", token="t", device_id="D", backend="demo"
    )
    again.restore()
    assert [t.title for t in again.tabs] == ["Demo chat"], "demo mode keeps its own, any port"


async def test_a_first_resume_of_a_fetched_session_streams_nothing_twice(store: ChatStore) -> None:
    """A session opened with the backend's history has no frame number saved: its first
    resume replays every frame. A reply kept whole is not streamed into again; one the server
    cut is streamed again from its start, not appended to."""
    ws, _ = workspace(store)
    ws.restore()
    history = [
        StoredMessage("a", "user", "first", "acknowledged", "2026"),
        StoredMessage("a:reply", "assistant", "whole answer", "complete", "2026"),
        StoredMessage("b", "user", "second", "acknowledged", "2026"),
        StoredMessage("b:reply", "assistant", "cut ans", "interrupted", "2026"),
    ]
    tab = ws.open_session("PHONE-claude-1", history)
    assert tab.reply.replaying_all
    replay: list[ClientEvent] = [
        wire.ReplyChunk("a", "whole "),
        wire.ReplyChunk("a", "answer"),
        wire.ReplyDone("a", "whole answer", 2, 2, None),
        wire.ReplyChunk("b", "cut ans"),
        wire.ReplyChunk("b", "wer, now whole"),
        wire.ReplyDone("b", "cut answer, now whole", 2, 4, None),
        wire.ResumeDone(12),
    ]
    for event in replay:
        ws.handle(tab.tab_id, event)
    assert [m.text for m in tab.messages] == [
        "first",
        "whole answer",
        "second",
        "cut answer, now whole",
    ]
    assert not tab.reply.replaying_all, "later resumes carry only what was missed"
    saved = store.session_messages("PHONE-claude-1")
    assert [(m.text, m.status) for m in saved][1::2] == [
        ("whole answer", "complete"),
        ("cut answer, now whole", "complete"),
    ]


async def test_a_reply_ending_in_a_tab_not_shown_leaves_it_unread_until_shown(
    store: ChatStore,
) -> None:
    ws, changes = workspace(store)
    ws.restore()
    first = ws.tabs[0]
    second = ws.add_tab("codex")
    asked = ws.send(second.tab_id, "question")  # the second tab is not shown
    changes.clear()
    ws.handle(second.tab_id, wire.ReplyChunk(asked.msg_id, "ans"))
    assert second.replying and TabActivity(second.tab_id) in changes
    ws.handle(second.tab_id, wire.ReplyDone(asked.msg_id, "answer", 1, 2, None))
    ended = [c for c in changes if isinstance(c, TabActivity) and c.ended is not None]
    assert [c.ended.text for c in ended if c.ended] == ["ans"], "told once, with the reply"
    assert second.unread and not second.replying
    ws.select(second.tab_id)
    assert not second.unread and changes[-1] == TabActivity(second.tab_id)
    asked = ws.send(first.tab_id, "in the tab shown")
    ws.select(first.tab_id)
    changes.clear()
    ws.handle(first.tab_id, wire.ReplyDone(asked.msg_id, "", 0, 4, None))
    assert not first.unread and TabActivity(first.tab_id) in changes, "no alert for the tab shown"


async def test_a_reply_resumed_after_a_restart_shows_as_being_written(store: ChatStore) -> None:
    ws, _ = workspace(store)
    ws.restore()
    tab = ws.tabs[0]
    asked = ws.send(tab.tab_id, "long question")
    store.save(
        tab.session_id,
        StoredMessage(f"{asked.msg_id}:reply", "assistant", "half", "interrupted", "2026"),
    )
    again, changes = workspace(store)
    again.restore()
    tab = again.tabs[0]
    tab.reply.replaying_all = False
    again.handle(tab.tab_id, wire.ReplyChunk(asked.msg_id, " and the rest"))
    assert tab.replying and TabActivity(tab.tab_id) in changes
    again.handle(tab.tab_id, wire.ReplyDone(asked.msg_id, "", 1, 2, None))
    assert not tab.replying and tab.messages[-1].text == "half and the rest"


async def test_messages_are_values_the_workspace_replaces_and_never_changes(
    store: ChatStore,
) -> None:
    ws, changes = workspace(store)
    ws.restore()
    tab = ws.tabs[0]
    asked = ws.send(tab.tab_id, "question")
    assert asked.row > 0, "it carries the row it was saved at"
    ws.handle(tab.tab_id, wire.Acknowledged(asked.msg_id, "queued"))
    assert asked.status == "pending", "the value the view was given stays as it was"
    changed = [c.message for c in changes if isinstance(c, MessageChanged)]
    assert [m.status for m in changed] == ["acknowledged"] and tab.messages[0] is changed[0]
    ws.handle(tab.tab_id, wire.ReplyChunk(asked.msg_id, "answer"))
    ws.handle(tab.tab_id, wire.ReplyDone(asked.msg_id, "answer", 1, 2, None))
    reply = tab.messages[-1]
    assert reply.text == "answer" and reply.row > asked.row
    assert [m.msg_id for m in store.session_messages(tab.session_id)] == [
        asked.msg_id,
        reply.msg_id,
    ]
