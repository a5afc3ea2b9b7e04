"""The sessions within reach, as one list: the backend's and this machine's, merged."""

from __future__ import annotations

from pathlib import Path

from tui.client.activity import ActivityItem, Approval
from tui.client.history import RemoteSession
from tui.model.session_list import matching, merge
from tui.store import ChatStore, LocalSession, StoredMessage
from tui.widgets.history_dialogs import session_line


def test_one_row_per_session_newest_first_with_where_each_is() -> None:
    remote = [
        RemoteSession("ME-claude-1", "claude", "ME", 4, "2026-01", "2026-01-03"),
        RemoteSession("PHONE-codex-9", "codex", "PHONE", 2, "2026-01", "2026-01-05"),
        RemoteSession("ME-claude-2", "claude", "ME", 6, "2026-01", "2026-01-01"),
    ]
    local = [
        LocalSession("ME-claude-1", 4, "2026-01-03", "claude", "Reviews", "t1", "demo", True),
        LocalSession("ME-codex-3", 8, "2026-01-04", "codex", "Old", "t3", "demo", False),
    ]
    rows = merge(remote, local, "ME")
    assert [(r.session_id, r.where, r.title, r.on_backend) for r in rows] == [
        ("PHONE-codex-9", "device PHONE", "", True),
        ("ME-codex-3", "closed here", "Old", False),
        ("ME-claude-1", "open here", "Reviews", True),
        ("ME-claude-2", "this device", "", True),
    ]
    assert rows[0].other_device and rows[2].open_here and not rows[1].other_device


def test_a_filter_matches_every_word_in_any_case() -> None:
    rows = merge(
        [RemoteSession("PHONE-codex-9", "codex", "PHONE", 2, "", "2026")],
        [LocalSession("ME-claude-1", 4, "2026", "claude", "Code Reviews", "t1", "demo", True)],
        "ME",
    )
    assert [r.session_id for r in rows if r.matches("reviews CLAUDE")] == ["ME-claude-1"]
    assert [r.session_id for r in rows if r.matches("phone")] == ["PHONE-codex-9"]
    assert [r.session_id for r in rows if r.matches("")] == [r.session_id for r in rows]
    assert not [r for r in rows if r.matches("owl")]


def test_a_session_whose_agent_asks_says_so_and_is_found_by_asks(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "history.db")
    store.save("ME-claude-1", StoredMessage("m1", "user", "may I", "acknowledged", "2026"))
    store.save("ME-claude-2", StoredMessage("m2", "user", "hello", "acknowledged", "2026"))
    item = ActivityItem("t1", "execute", "Run ls", "pending")
    store.keep_approval("ME-claude-1", Approval("a1", item), "2026")
    store.keep_approval("ME-claude-1", Approval("a2", item), "2026")
    rows = merge([], store.sessions(), "ME")
    asking = next(r for r in rows if r.session_id == "ME-claude-1")
    assert asking.asking == 2 and "? 2 questions" in session_line(asking).plain
    assert [r.session_id for r in matching(rows, "asks")] == ["ME-claude-1"]
