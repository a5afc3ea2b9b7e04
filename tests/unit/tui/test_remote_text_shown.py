"""What the backend wrote (ids, devices, titles, metadata) as the session browser, the search
dialog and an export show it (docs/safety.md): inert on screen, never a reason to raise, and the
browser's filter does no work per keystroke beyond a substring test per row."""

from __future__ import annotations

import json

import pytest

import tui.model.session_list
from tui.client.history import RemoteMessage, RemoteSession
from tui.client.inert import is_inert
from tui.model.export import Conversation, from_backend, to_json, to_markdown
from tui.model.session_list import SessionRow, matching, merge
from tui.store import SearchHit
from tui.widgets.history_dialogs import hit_line, session_line

CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
CLEAR = "\x1b[2J"
RLO = "\u202e"
LONE = "\ud83d"


def hostile_row(**overrides: object) -> SessionRow:
    remote = RemoteSession(
        f"PHONE-claude-{CLIPBOARD}{RLO}txt.exe",
        "claude",
        f"PHONE{CLEAR}",
        3,
        "",
        f"2026-01-01T10:00{CLEAR}",
    )
    (row,) = merge([remote], [], "ME")
    return row


def test_a_session_line_shows_the_servers_text_inert() -> None:
    row = hostile_row()
    line = session_line(row)
    assert is_inert(line.plain), repr(line.plain)
    assert "␛]52;c;cm0gLXJmIH4=␇" in line.plain and "⟨U+202E⟩txt.exe" in line.plain
    assert "device PHONE␛[2J" in line.plain
    titled = SessionRow(row.session_id, "codex", "D", 1, "", "closed here", f"t{CLEAR}\nx", False)
    assert is_inert(session_line(titled).plain) and "t␛[2J␊x" in session_line(titled).plain


def test_a_search_hit_shows_its_excerpt_inert_with_its_matches_where_they_are() -> None:
    excerpt = f"a\x85b {CLEAR} pelican end"
    start = excerpt.index("pelican")
    hit = SearchHit(
        session_id="s",
        msg_id="m1",
        role="assistant",
        status="complete",
        timestamp="2026-01-01T10:00",
        row=1,
        tab_id="t1",
        title=f"Tab{CLEAR}",
        open=True,
        snippet="",
        excerpt=excerpt,
        marks=((start, start + len("pelican")), (start + 2, start + 4)),
    )
    line = hit_line(hit)
    assert is_inert(line.plain), repr(line.plain)
    marked = [
        line.plain[span.start : span.end] for span in line.spans if span.style == "bold reverse"
    ]
    assert marked == ["pelican"]


def test_the_filter_reads_each_row_once_not_at_every_keystroke(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: every keystroke formatted and case-folded every row again (19.6 s to Backspace
    over 200,000 sessions)."""
    calls = 0
    original = tui.model.session_list.inert_name

    def counted(text: str) -> str:
        nonlocal calls
        calls += 1
        return original(text)

    monkeypatch.setattr(tui.model.session_list, "inert_name", counted)
    remote = [
        RemoteSession(f"PHONE-codex-{n}", "codex", "PHONE", 2, "", f"{n:04d}") for n in range(50)
    ]
    rows = merge(remote, [], "ME")
    for text in ("p", "ph", "pho", "phone codex-4", "phone codex-49", ""):
        matching(rows, text)
    first = calls
    for text in ("c", "co", "codex-1", "owl"):
        matching(rows, text)
    assert first == 2 * len(rows) and calls == first
    assert [row.session_id for row in matching(rows, "PHONE codex-49")] == ["PHONE-codex-49"]
    assert matching(rows, "  ") == rows and not matching(rows, "owl")


def test_an_id_is_found_as_it_is_shown() -> None:
    row = hostile_row()
    assert row.matches("⟨u+202e⟩txt.exe") and row.matches("phone␛[2j")


def test_remote_metadata_of_any_shape_exports() -> None:
    """Before: an id UTF-8 cannot hold made the export raise, and a status this client does
    not know was kept as it came (`replying`: a reply the app would wait for forever)."""
    odd = [
        RemoteMessage(1, "user", "hi", "t", {"message_id": f"id{LONE}", "attachments": "no"}),
        RemoteMessage(2, "assistant", f"half {LONE}", LONE, {"reply_to": 5, "status": "replying"}),
        RemoteMessage(3, "system", "x", "t", {"status": ["complete"], "attachments": [None, {}]}),
        RemoteMessage(4, "assistant", "y", "t", {"status": "stopped", "reply_to": f"r{LONE}"}),
    ]
    stored = from_backend(odd)
    assert [(m.msg_id, m.role, m.status) for m in stored] == [
        ("id\ufffd", "user", "acknowledged"),
        ("#2", "assistant", "complete"),
        ("#3", "assistant", "complete"),
        ("r\ufffd:reply", "assistant", "stopped"),
    ]
    conversation = Conversation("s", stored)
    json.loads(to_json(conversation).encode("utf-8"))
    to_markdown(conversation).encode("utf-8")
