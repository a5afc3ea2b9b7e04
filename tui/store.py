"""Local history: tabs, drafts, settings and every message, in SQLite in the data dir.

Messages are appended as they happen (user message on send, assistant message when complete,
partial replies when cut) and only their status is updated in place, so a long history costs
nothing per message. There is no cap: the app loads the most recent window and pages back.
A closed tab's row and messages stay on disk.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.client.ids import new_id

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tabs (
    tab_id     TEXT PRIMARY KEY,
    position   INTEGER NOT NULL,
    provider   TEXT NOT NULL,
    title      TEXT NOT NULL,
    session_id TEXT NOT NULL,
    draft      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    closed_at  TEXT
);
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id     TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    role       TEXT NOT NULL,
    text       TEXT NOT NULL,
    status     TEXT NOT NULL,
    timestamp  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
"""


class StoreError(Exception):
    """Local storage failed; the text says what and where (the UI shows it, loses nothing)."""


@dataclass(frozen=True)
class TabRow:
    tab_id: str
    position: int
    provider: str
    title: str
    session_id: str
    draft: str


@dataclass
class StoredMessage:
    msg_id: str
    role: str
    """`user`, `assistant` or `error`."""
    text: str
    status: str
    """user: `pending` → `sent`; assistant: `complete` or `interrupted`; error: `error`."""
    timestamp: str
    row: int = 0


class ChatStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if self._db.execute("PRAGMA user_version").fetchone()[0] > SCHEMA_VERSION:
                raise StoreError(f"{path} was written by a newer builderos; upgrade it")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the history database {path}: {exc}") from exc

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"could not save to {self.path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    # settings ----------------------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        row = self._run("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self._run("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (key, value))

    # tabs --------------------------------------------------------------------------------------

    def open_tabs(self) -> list[TabRow]:
        rows = self._run(
            "SELECT tab_id, position, provider, title, session_id, draft FROM tabs"
            " WHERE closed_at IS NULL ORDER BY position"
        ).fetchall()
        return [TabRow(*row) for row in rows]

    def add_tab(self, tab: TabRow, created_at: str) -> None:
        self._run(
            "INSERT INTO tabs(tab_id, position, provider, title, session_id, draft, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                tab.tab_id,
                tab.position,
                tab.provider,
                tab.title,
                tab.session_id,
                tab.draft,
                created_at,
            ),
        )

    def update_tab(self, tab_id: str, **fields: str | int) -> None:
        allowed = {"title", "draft", "position"}
        assert set(fields) <= allowed, fields
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self._run(f"UPDATE tabs SET {assignments} WHERE tab_id = ?", (*fields.values(), tab_id))

    def close_tab(self, tab_id: str, closed_at: str) -> None:
        self._run("UPDATE tabs SET closed_at = ? WHERE tab_id = ?", (closed_at, tab_id))

    # messages ----------------------------------------------------------------------------------

    def append(self, session_id: str, message: StoredMessage) -> None:
        cursor = self._run(
            "INSERT INTO messages(msg_id, session_id, role, text, status, timestamp)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                message.msg_id,
                session_id,
                message.role,
                message.text,
                message.status,
                message.timestamp,
            ),
        )
        message.row = cursor.lastrowid or 0

    def set_status(self, msg_id: str, status: str) -> None:
        self._run("UPDATE messages SET status = ? WHERE msg_id = ?", (status, msg_id))

    def count(self, session_id: str) -> int:
        return self._run(
            "SELECT COUNT(*) FROM messages WHERE session_id = ?", (session_id,)
        ).fetchone()[0]

    def recent(
        self, session_id: str, limit: int, before_row: int | None = None
    ) -> list[StoredMessage]:
        """Up to `limit` messages before `before_row` (default: the newest), oldest first."""
        rows = self._run(
            "SELECT msg_id, role, text, status, timestamp, id FROM messages"
            " WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (session_id, before_row if before_row is not None else 2**62, limit),
        ).fetchall()
        return [StoredMessage(*row) for row in reversed(rows)]


def device_id_of(store: ChatStore, override: str | None) -> str:
    """The installation's device id: generated once, kept in the data dir."""
    if override:
        return override
    device_id = store.setting("device_id")
    if device_id is None:
        device_id = new_id()
        store.set_setting("device_id", device_id)
    return device_id
