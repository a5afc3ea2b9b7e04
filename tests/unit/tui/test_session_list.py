"""The sessions within reach, as one list: the backend's and this machine's, merged."""

from __future__ import annotations

from tui.client.history import RemoteSession
from tui.model.session_list import merge
from tui.store import LocalSession


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
