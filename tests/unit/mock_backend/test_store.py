"""SQLite storage: append-only messages, the contract's table, retention and the active window."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mock_backend.sessions import SessionRegistry
from mock_backend.store import InboxEntry, SessionStore, StoreError


def _registry(path: Path, **kw: float) -> SessionRegistry:
    return SessionRegistry(SessionStore(path), claude_md="You are Jarvis.", **kw)


def test_each_message_is_one_appended_row(tmp_path: Path) -> None:
    reg = _registry(tmp_path / "s.db")
    session = reg.open("dev-claude-1", "claude", "dev")
    assert reg.append(session, "user", "hi") == 1
    assert reg.append(session, "assistant", "hello", {"status": "complete"}) == 2
    db = sqlite3.connect(tmp_path / "s.db")
    rows = db.execute("SELECT role, content, metadata FROM messages ORDER BY id").fetchall()
    assert rows == [("user", "hi", None), ("assistant", "hello", '{"status": "complete"}')]
    data = db.execute("SELECT data FROM sessions").fetchone()[0]
    assert "hello" not in data, "the session row never holds the messages"


def test_seed_query_works_on_the_sessions_table(tmp_path: Path) -> None:
    reg = _registry(tmp_path / "s.db")
    reg.open("dev-codex-1", "codex", "dev")
    db = sqlite3.connect(tmp_path / "s.db")
    rows = db.execute("SELECT session_id, agent_type, last_activity FROM sessions;").fetchall()
    assert [r[:2] for r in rows] == [("dev-codex-1", "codex")]
    columns = {r[1] for r in db.execute("PRAGMA table_info(sessions)")}
    assert {
        "session_id",
        "agent_type",
        "device_id",
        "data",
        "created_at",
        "last_activity",
    } <= columns
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_claude_sessions_get_claude_md_and_codex_sessions_none(tmp_path: Path) -> None:
    reg = _registry(tmp_path / "s.db")
    assert reg.open("a", "claude", "d").system_context == "You are Jarvis."
    assert reg.open("b", "codex", "d").system_context is None
    reg2 = _registry(tmp_path / "s.db")
    reg2.load()
    assert reg2.active["a"].system_context == "You are Jarvis.", "kept across a restart"


def test_history_is_the_last_messages_oldest_first(tmp_path: Path) -> None:
    reg = _registry(tmp_path / "s.db")
    session = reg.open("s", "claude", "d")
    for i in range(60):
        reg.append(session, "user" if i % 2 == 0 else "assistant", f"m{i}")
    history = reg.history(session)
    assert len(history) == 50
    assert history[0]["content"] == "m10" and history[-1]["content"] == "m59"


def test_load_deletes_old_sessions_and_activates_recent_ones(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    reg = _registry(path)
    for name in ("fresh", "week-old", "ancient"):
        reg.append(reg.open(name, "claude", "d"), "user", "hi")
    now = datetime.now(UTC)
    db = sqlite3.connect(path)
    for name, age in (("week-old", 10), ("ancient", 40)):
        stamp = (now - timedelta(days=age)).isoformat()
        db.execute("UPDATE sessions SET last_activity = ? WHERE session_id = ?", (stamp, name))
    db.commit()

    fresh = _registry(path)
    assert fresh.load(now) == (1, 1)
    assert set(fresh.active) == {"fresh"}
    assert fresh.store.get_session("week-old") is not None, "stored, just not active"
    assert fresh.store.get_session("ancient") is None
    assert db.execute("SELECT COUNT(*) FROM messages WHERE session_id='ancient'").fetchone() == (0,)
    reopened = fresh.open("week-old", "claude", "d")
    assert reopened.message_count == 1, "a message to an inactive session reopens it with history"


def test_close_keeps_history(tmp_path: Path) -> None:
    reg = _registry(tmp_path / "s.db")
    reg.append(reg.open("s", "codex", "d"), "user", "hi")
    assert reg.close("s") == (True, False)
    assert reg.close("s") == (False, False)
    assert "s" not in reg.active
    assert [m.content for m in reg.store.all_messages("s")] == ["hi"]


def test_counts_for_health(tmp_path: Path) -> None:
    reg = _registry(tmp_path / "s.db")
    reg.open("a", "claude", "d1")
    reg.open("b", "codex", "d1")
    reg.open("c", "codex", "d2")
    assert reg.counts() == {
        "total": 3,
        "by_agent": {"claude": 1, "codex": 2},
        "by_device": {"d1": 2, "d2": 1},
    }


def test_unusable_database_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open session database"):
        SessionStore(blocker / "s.db")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"garbage\.db"):
        SessionStore(garbage)


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SessionStore(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.commit()
    with pytest.raises(StoreError, match="newer version"):
        SessionStore(path)


def test_a_failed_write_raises_store_error_and_keeps_the_rest(tmp_path: Path) -> None:
    reg = _registry(tmp_path / "s.db")
    session = reg.open("s", "claude", "d")
    reg.append(session, "user", "kept")
    reg.store._db.execute("PRAGMA max_page_count=1")  # as good as a full disk
    with pytest.raises(StoreError, match="could not store a message"):
        reg.append(session, "assistant", "x" * 100_000)
    assert [m.content for m in reg.store.all_messages("s")] == ["kept"]


def test_a_turn_left_unanswered_by_a_killed_server_is_closed_first(tmp_path: Path) -> None:
    reg = _registry(tmp_path / "s.db")
    session = reg.open("s", "claude", "d")
    reg.begin_turn(session, "asked just before the server was killed")
    assert reg.begin_turn(session, "asked after the restart") == 3
    stored = reg.store.all_messages("s")
    assert [m.role for m in stored] == ["user", "assistant", "user"]
    assert stored[1].metadata == {"status": "interrupted"}


def test_a_schema_2_inbox_gains_its_senders_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE sessions (session_id TEXT PRIMARY KEY, agent_type TEXT NOT NULL,
            device_id TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL,
            last_activity TEXT NOT NULL, message_count INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
            client_id TEXT NOT NULL, content TEXT NOT NULL, attachments TEXT,
            state TEXT NOT NULL, ack_seq INTEGER NOT NULL, UNIQUE (session_id, client_id));
        INSERT INTO sessions VALUES ('s', 'claude', 'D', '{}', '2026', '2026', 0);
        INSERT INTO inbox(session_id, client_id, content, state, ack_seq)
            VALUES ('s', 'm1', 'queued before the upgrade', 'queued', 1);
        PRAGMA user_version=2;
        """
    )
    db.close()
    store = SessionStore(path)
    entry = store.next_queued("s")
    assert entry is not None and entry.content == "queued before the upgrade"
    assert entry.sender == {}, "who sent it is not known"
    turn = {"type": "turn", "reply_to": "m2", "content": "new", "device_id": "PHONE"}
    ack_seq = store.queue_message("s", "m2", "new", [], {"type": "ack"}, turn, {"device_id": "P"})
    assert [f["type"] for f in store.frames_after("s", 0, 10)] == ["turn", "ack"]
    kept = InboxEntry("s", "m2", "new", [], "queued", ack_seq, {"device_id": "P"})
    assert store.inbox_entry("s", "m2") == kept
