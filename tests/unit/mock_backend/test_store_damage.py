"""A damaged sessions.db is found at start, set aside (never deleted) and reported; WAL frames
SQLite could not use are reported too, instead of a last turn lost in silence."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from mock_backend.store import SessionStore


def fill(path: Path, rows: int = 300) -> None:
    store = SessionStore(path)
    store.create_session("s1", "claude", "dev", "2026-01-01T00:00:00", {})
    for n in range(rows):
        store.append_message("s1", "user", f"message {n} " + "words " * 30, "t", None)
    store.close()


def test_a_damaged_database_is_set_aside_and_a_fresh_one_starts(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    fill(path)
    pages = path.stat().st_size // 4096
    with path.open("r+b") as db:
        for page in range(pages // 2, pages // 2 + 3):
            db.seek(page * 4096)
            db.write(os.urandom(4096))
    store = SessionStore(path)
    (problem,) = store.problems
    assert "damaged" in problem and "sessions.db.damaged-" in problem
    assert [p.name for p in tmp_path.glob("sessions.db.damaged-*")], "kept, never deleted"
    assert store.count_sessions() == 0
    store.create_session("s2", "codex", "dev", "2026-01-01T00:00:00", {})
    assert store.count_sessions() == 1


def test_damaged_wal_frames_are_reported(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    fill(live, rows=5)
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    for n in range(20):  # committed writes that live only in the WAL for now
        writer.execute(
            "INSERT INTO messages(session_id, role, content, timestamp)"
            " VALUES ('s1', 'user', ?, 't')",
            (f"late {n} " * 50,),
        )
    crashed = tmp_path / "crashed.db"  # the files as a crash would leave them
    shutil.copy(live, crashed)
    shutil.copy(live.with_name("live.db-wal"), crashed.with_name("crashed.db-wal"))
    writer.close()
    wal = crashed.with_name("crashed.db-wal")
    size = wal.stat().st_size
    with wal.open("r+b") as damaged:  # the last frames' page data is garbage
        damaged.seek(size - 3 * 4096)
        damaged.write(os.urandom(4096))
    store = SessionStore(crashed)
    assert any("frames of the write-ahead log were damaged" in p for p in store.problems)


def test_a_clean_database_has_no_problems(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    fill(path, rows=3)
    assert SessionStore(path).problems == []


def test_only_the_history_that_can_fit_is_read(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.db")
    store.create_session("s", "claude", "dev", "t", {})
    for n in range(10):
        store.append_message("s", "user", f"{n}:" + "x" * 1000, "t", None)
    messages, left_out = store.recent_within("s", limit=50, max_chars=3500)
    assert [m.content[:2] for m in messages] == ["7:", "8:", "9:"] and left_out == 7
    huge, skipped = store.recent_within("s", limit=50, max_chars=10)
    assert len(huge) == 1 and skipped == 9, "the newest always comes"
