"""The client's history is opened as the mock's session database is (localdata): lost
write-ahead-log frames are said at start, as the mock says them."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from tui.store import ChatStore, StoredMessage


def test_lost_write_ahead_log_frames_are_said_at_start(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    store = ChatStore(live)
    store.save("s", StoredMessage("m1", "user", "kept", "acknowledged", "t"))
    store.close()
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    for n in range(20):  # committed writes that live only in the WAL for now
        writer.execute("INSERT INTO settings(key, value) VALUES (?, ?)", (f"k{n}", "v" * 2000))
    crashed = tmp_path / "crashed.db"  # the files as a crash would leave them
    shutil.copy(live, crashed)
    shutil.copy(live.with_name("live.db-wal"), crashed.with_name("crashed.db-wal"))
    writer.close()
    wal = crashed.with_name("crashed.db-wal")
    with wal.open("r+b") as damaged:  # the last frames' page data is garbage
        damaged.seek(wal.stat().st_size - 3 * 4096)
        damaged.write(os.urandom(4096))
    again = ChatStore(crashed)
    assert again.recovered is not None
    assert "frames of the write-ahead log were damaged" in again.recovered
    assert [m.text for m in again.recent("s", 10)] == ["kept"]
    again.close()


def test_a_clean_history_reports_nothing(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "history.db")
    store.close()
    assert ChatStore(tmp_path / "history.db").recovered is None
