"""Local history: tabs, drafts, settings and every message, in SQLite in the data dir.

Messages are appended as they happen (user message on send, assistant message when complete,
partial replies when cut) and only their status is updated in place, so a long history costs
nothing per message. There is no cap: the app loads the most recent window and pages back.
A closed tab's row and messages stay on disk.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast, get_args

from localdata.sqlite import Damaged, open_checked, transaction
from tui.client import attachments as files
from tui.client.attachments import Attachment
from tui.client.frames import clean_text
from tui.client.ids import new_id

SCHEMA_VERSION = 4
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
    closed_at  TEXT,
    backend    TEXT NOT NULL DEFAULT '',
    draft_attachments TEXT
);
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id     TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    role       TEXT NOT NULL,
    text       TEXT NOT NULL,
    status     TEXT NOT NULL,
    timestamp  TEXT NOT NULL,
    attachments TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
"""
_UPGRADES = {
    # 1 → 2: tabs belong to a backend; the last numbered reply frame per session is kept; a
    # user message whose reply came is `acknowledged` (`sent` now means "no answer yet")
    2: (
        "ALTER TABLE tabs ADD COLUMN backend TEXT NOT NULL DEFAULT ''",
        "UPDATE messages SET status = 'acknowledged' WHERE role = 'user' AND status = 'sent'",
    ),
    3: (),  # 2 → 3: the full-text index, built by `_add_fulltext` from what is stored
    # 3 → 4: files attached to a message, and to a tab's draft (JSON lists, NULL for none)
    4: (
        "ALTER TABLE messages ADD COLUMN attachments TEXT",
        "ALTER TABLE tabs ADD COLUMN draft_attachments TEXT",
    ),
}
"""Steps from each older schema, run in order in one transaction before `_SCHEMA`. Schema 3 (a
full-text index of the messages) is `_FULLTEXT`, built by `_open`: SQLite may lack FTS5."""
_FULLTEXT = """
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
    text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
END;
"""
"""Every message's text in an FTS5 index, kept up to date by triggers as messages are saved."""
UNOWNED = ""
"""The backend of tabs made before tabs had one: the next backend opened adopts them."""


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
    draft_attachments: tuple[Attachment, ...] = ()


Status = Literal[
    "pending",
    "sent",
    "acknowledged",
    "not_confirmed",
    "replying",
    "complete",
    "interrupted",
    "stopped",
    "error",
]
"""Where a stored message stands (see `StoredMessage.status`): a Literal, so mypy checks every
status written or compared (a typo is a type error, not a message that never changes)."""
STATUSES: frozenset[str] = frozenset(get_args(Status))


def status_of(value: object, default: Status = "complete") -> Status:
    """A status read from a file or the network: one of `Status`, else `default`."""
    return cast(Status, value) if isinstance(value, str) and value in STATUSES else default


@dataclass
class StoredMessage:
    msg_id: str
    role: str
    """`user`, `assistant` or `error`."""
    text: str
    status: Status
    """user: `pending` (queued) → `sent` (written) → `acknowledged` (the server has it), or
    `not_confirmed` (written to a socket that dropped, on a server that does not acknowledge);
    assistant: `replying` → `complete`, `interrupted` or `stopped`; error: `error`."""
    timestamp: str
    row: int = 0
    attachments: tuple[Attachment, ...] = ()
    """Files uploaded with a user message."""


_MESSAGE = "msg_id, role, text, status, timestamp, id, attachments"
"""The columns `_message` reads, in its order."""


def _message(row: tuple[Any, ...]) -> StoredMessage:
    msg_id, role, text, status, timestamp, number, attached = row
    return StoredMessage(
        msg_id, role, text, status_of(status), timestamp, number, files.loads(attached)
    )


class ChatStore:
    """The local history. A damaged file (a disk error, a crash mid-write) is checked for at
    open (`PRAGMA quick_check`): it is set aside, never deleted, and a new history starts;
    `recovered` says so, for the app to show."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.recovered: str | None = None
        """Set when the history was damaged: what happened and where the old file is."""
        self.fulltext = False
        """Search uses the FTS5 index (False: this SQLite has no FTS5; search scans)."""
        try:
            opened = open_checked(path, self._setup, "history database", refuse_foreign=False)
        except (sqlite3.Error, OSError, Damaged) as exc:
            raise StoreError(f"cannot open the history database {path}: {exc}") from exc
        self._db = opened.db
        self.recovered = " ".join(opened.problems) or None

    def _setup(self, db: sqlite3.Connection) -> None:
        """The schema, brought up to date (run by `open_checked` on a file that passed
        SQLite's check)."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer builderos; upgrade it")
        if 0 < version < SCHEMA_VERSION:
            _upgrade(db, version)
        db.executescript(_SCHEMA)
        self.fulltext = _add_fulltext(db)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.create_function("occurrences", 2, _occurrences, deterministic=True)

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Every write goes through here: text that UTF-8 cannot encode (a lone surrogate) is
        stored with replacement characters rather than refused."""
        clean = tuple(clean_text(p) if isinstance(p, str) else p for p in params)
        try:
            return self._db.execute(sql, clean)
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

    def open_tabs(self, backend: str) -> list[TabRow]:
        """The open tabs of one backend (tabs from before backends were recorded are adopted
        by the first backend that asks; the caller tells the user)."""
        rows = self._run(
            "SELECT tab_id, position, provider, title, session_id, draft, draft_attachments"
            " FROM tabs WHERE closed_at IS NULL AND backend = ? ORDER BY position",
            (backend,),
        ).fetchall()
        return [
            TabRow(tab_id, position, provider, title, session_id, draft, files.loads(attached))
            for tab_id, position, provider, title, session_id, draft, attached in rows
        ]

    def adopt_unowned_tabs(self, backend: str) -> int:
        """Give tabs made before schema 2 to `backend`; returns how many."""
        return self._run(
            "UPDATE tabs SET backend = ? WHERE backend = ? AND closed_at IS NULL",
            (backend, UNOWNED),
        ).rowcount

    def add_tab(self, tab: TabRow, created_at: str, backend: str) -> None:
        self._run(
            "INSERT INTO tabs(tab_id, position, provider, title, session_id, draft, created_at,"
            " backend) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tab.tab_id,
                tab.position,
                tab.provider,
                tab.title,
                tab.session_id,
                tab.draft,
                created_at,
                backend,
            ),
        )

    def update_tab(self, tab_id: str, **fields: str | int | None) -> None:
        allowed = {"title", "draft", "position", "draft_attachments"}
        assert set(fields) <= allowed, fields
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self._run(f"UPDATE tabs SET {assignments} WHERE tab_id = ?", (*fields.values(), tab_id))

    def close_tab(self, tab_id: str, closed_at: str) -> None:
        self._run("UPDATE tabs SET closed_at = ? WHERE tab_id = ?", (closed_at, tab_id))

    # messages ----------------------------------------------------------------------------------

    def set_status(self, msg_id: str, status: Status) -> None:
        self._run("UPDATE messages SET status = ? WHERE msg_id = ?", (status, msg_id))

    def save(self, session_id: str, message: StoredMessage) -> None:
        """Insert the message, or update its text and status where it stands (a reply saved
        while it streams keeps its place)."""
        cursor = self._run(
            "INSERT INTO messages(msg_id, session_id, role, text, status, timestamp, attachments)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(msg_id) DO UPDATE SET"
            " text = excluded.text, status = excluded.status RETURNING id",
            (
                message.msg_id,
                session_id,
                message.role,
                message.text,
                message.status,
                message.timestamp,
                files.dumps(message.attachments),
            ),
        )
        message.row = cursor.fetchone()[0]

    def save_progress(self, session_id: str, seq: int | None, replies: list[StoredMessage]) -> None:
        """Replies as far as they came and the number of the last frame they include, in one
        transaction: after a crash, resuming from that number repeats nothing and misses
        nothing."""
        try:
            with transaction(self._db):
                for reply in replies:
                    self.save(session_id, reply)
                if seq is not None:
                    self._run(
                        "INSERT OR REPLACE INTO sessions(session_id, last_seq) VALUES (?, ?)",
                        (session_id, seq),
                    )
        except sqlite3.Error as exc:
            raise StoreError(f"could not save to {self.path}: {exc}") from exc

    def save_all(self, session_id: str, messages: list[StoredMessage]) -> None:
        """Several messages in one transaction (a session's history from the backend)."""
        self.save_progress(session_id, None, messages)

    def has_message(self, session_id: str, msg_id: str) -> bool:
        """This session holds a message with this id (a user turn, or its reply)."""
        row = self._run(
            "SELECT 1 FROM messages WHERE session_id = ? AND msg_id IN (?, ?)",
            (session_id, msg_id, f"{msg_id}:reply"),
        ).fetchone()
        return row is not None

    def last_seq(self, session_id: str) -> int | None:
        row = self._run(
            "SELECT last_seq FROM sessions WHERE session_id = ?", (session_id,)
        ).fetchone()
        return int(row[0]) if row else None

    def with_status(self, session_id: str, *statuses: Status) -> list[StoredMessage]:
        """The session's messages in these states, oldest first (after a restart: `pending`
        ones are sent, `sent` ones were never answered)."""
        marks = ", ".join("?" * len(statuses))
        rows = self._run(
            f"SELECT {_MESSAGE} FROM messages"
            f" WHERE session_id = ? AND status IN ({marks}) ORDER BY id",
            (session_id, *statuses),
        ).fetchall()
        return [_message(row) for row in rows]

    def pending(self, session_id: str) -> list[StoredMessage]:
        """The session's messages never written to a socket, oldest first."""
        return self.with_status(session_id, "pending")

    def count(self, session_id: str) -> int:
        return self._run(
            "SELECT COUNT(*) FROM messages WHERE session_id = ?", (session_id,)
        ).fetchone()[0]

    def recent(
        self, session_id: str, limit: int, before_row: int | None = None
    ) -> list[StoredMessage]:
        """Up to `limit` messages before `before_row` (default: the newest), oldest first."""
        rows = self._run(
            f"SELECT {_MESSAGE} FROM messages"
            " WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (session_id, before_row if before_row is not None else 2**62, limit),
        ).fetchall()
        return [_message(row) for row in reversed(rows)]

    # search ------------------------------------------------------------------------------------

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages that contain every word of `text` (the last one as a prefix, so results
        come as you type), newest first, with the tab they belong to if any."""
        words = [w for w in text.replace("\x00", " ").split() if w]  # FTS5 ends a string at NUL
        if not words:
            return []
        select = (
            "SELECT m.session_id, m.msg_id, m.role, m.status, m.timestamp, m.id,"
            " COALESCE(t.tab_id, ''), COALESCE(t.title, ''), t.closed_at IS NULL AND"
            " t.tab_id IS NOT NULL, {snippet} FROM {source}"
            " LEFT JOIN tabs t ON t.rowid = (SELECT rowid FROM tabs WHERE session_id ="
            " m.session_id ORDER BY closed_at IS NOT NULL, rowid DESC LIMIT 1)"
        )
        if self.fulltext:
            query = " ".join(_phrase(word) for word in words) + "*"
            sql = select.format(
                snippet="snippet(messages_fts, 0, char(2), char(3), '…', 16)",
                source="messages_fts f JOIN messages m ON m.id = f.rowid",
            )
            params: tuple[Any, ...] = (query, limit)
            sql += " WHERE messages_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?"
        else:  # no FTS5 in this SQLite: a scan, still correct
            sql = select.format(snippet="substr(m.text, 1, 120)", source="messages m")
            sql += " WHERE " + " AND ".join("m.text LIKE ? ESCAPE '\\'" for _ in words)
            sql += " ORDER BY m.id DESC LIMIT ?"
            params = (*(f"%{_like(word)}%" for word in words), limit)
        rows = self._run(sql, params).fetchall()
        return [
            SearchHit(sid, msg_id, role, status, stamp, row, tab_id, title, bool(open_), *marked)
            for sid, msg_id, role, status, stamp, row, tab_id, title, open_, snippet in rows
            for marked in [_marked(snippet, self.fulltext, words)]
        ]

    def occurrences(self, session_id: str, text: str) -> list[tuple[str, int, int]]:
        """Where the session shows `text` (any case, anywhere, as typed): (msg_id, row, how
        many times) for each message that does, oldest first. Find in a tab, over the whole
        history and not only what is loaded."""
        if not text:
            return []
        shown = (
            "SELECT msg_id, id, CASE role WHEN 'error' THEN 'Error: ' || text ELSE text END AS s"
            " FROM messages WHERE session_id = ?"
        )
        if text.isascii():  # LIKE and lower() fold ASCII only, at C speed: enough here
            sql = (
                "SELECT msg_id, id, (length(s) - length(replace(lower(s), ?, ''))) / ?"
                f" FROM ({shown}) WHERE s LIKE ? ESCAPE '\\' ORDER BY id"
            )
            params: tuple[Any, ...] = (text.lower(), len(text), session_id, f"%{_like(text)}%")
        else:  # any other script: Python's folding, a function call per message
            sql = f"SELECT * FROM (SELECT msg_id, id, occurrences(s, ?) AS n FROM ({shown}))"
            sql += " WHERE n > 0 ORDER BY id"
            params = (text, session_id)
        return [(msg_id, row, int(n)) for msg_id, row, n in self._run(sql, params).fetchall()]

    def since(self, session_id: str, first_row: int, before_row: int) -> list[StoredMessage]:
        """The session's messages from `first_row` up to (not including) `before_row`."""
        rows = self._run(
            f"SELECT {_MESSAGE} FROM messages"
            " WHERE session_id = ? AND id >= ? AND id < ? ORDER BY id",
            (session_id, first_row, before_row),
        ).fetchall()
        return [_message(row) for row in rows]

    def session_messages(self, session_id: str) -> list[StoredMessage]:
        """All of a session's messages, oldest first (export)."""
        rows = self._run(
            f"SELECT {_MESSAGE} FROM messages WHERE session_id = ? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [_message(row) for row in rows]

    def sessions(self) -> list[LocalSession]:
        """Every session this machine has history for, most recent first, with its tab."""
        rows = self._run(
            "SELECT m.session_id, COUNT(*), MAX(m.timestamp), COALESCE(t.provider, ''),"
            " COALESCE(t.title, ''), COALESCE(t.tab_id, ''), COALESCE(t.backend, ''),"
            " t.tab_id IS NOT NULL AND t.closed_at IS NULL"
            " FROM messages m LEFT JOIN tabs t ON t.session_id = m.session_id"
            " GROUP BY m.session_id ORDER BY MAX(m.id) DESC"
        ).fetchall()
        return [
            LocalSession(sid, count, last, provider, title, tab_id, backend, bool(open_))
            for sid, count, last, provider, title, tab_id, backend, open_ in rows
        ]


@dataclass(frozen=True)
class SearchHit:
    session_id: str
    msg_id: str
    role: str
    status: str
    timestamp: str
    row: int
    tab_id: str
    """The tab the session belongs to ('' if none on this machine)."""
    title: str
    open: bool
    """Its tab is open."""
    snippet: str
    """The words around the match, the match in [brackets]."""
    excerpt: str = ""
    """The same words without the brackets (a screen marks the match its own way)."""
    marks: tuple[tuple[int, int], ...] = ()
    """Where the words found are in `excerpt`: (start, end) pairs."""


@dataclass(frozen=True)
class LocalSession:
    session_id: str
    messages: int
    last_activity: str
    provider: str
    title: str
    tab_id: str
    backend: str
    open: bool


@lru_cache(maxsize=8)
def text_pattern(term: str) -> re.Pattern[str]:
    """The text as typed, any case; nothing in it is a regular expression."""
    return re.compile(re.escape(term), re.IGNORECASE)


def _occurrences(text: object, term: object) -> int:
    """SQLite's `occurrences(text, term)`: case-insensitive in every script (LIKE and lower()
    fold ASCII only)."""
    if not isinstance(text, str) or not isinstance(term, str) or not term:
        return 0
    return sum(1 for _ in text_pattern(term).finditer(text))


def _marked(
    raw: str, fulltext: bool, words: list[str]
) -> tuple[str, str, tuple[tuple[int, int], ...]]:
    """A search result's snippet bracketed, plain, and where its matches are. The index marks
    them (ASCII STX and ETX); a scan finds the words again."""
    raw = " ".join(raw.split())
    marks: list[tuple[int, int]] = []
    if fulltext:
        plain = ""
        for number, piece in enumerate(raw.replace("\x03", "\x02").split("\x02")):
            if number % 2:
                marks.append((len(plain), len(plain) + len(piece)))
            plain += piece
    else:
        plain = raw
        for word in words:
            marks.extend(m.span() for m in text_pattern(word).finditer(plain))
        marks.sort()
    snippet, done = "", 0
    for start, end in marks:
        if start >= done:
            snippet += f"{plain[done:start]}[{plain[start:end]}]"
            done = end
    return snippet + plain[done:], plain, tuple(marks)


def _phrase(word: str) -> str:
    """A word as an FTS5 string: quotes, operators and brackets lose their meaning."""
    return '"' + word.replace('"', '""') + '"'


def _like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _add_fulltext(db: sqlite3.Connection) -> bool:
    """Create the full-text index if this SQLite has FTS5, filled from the messages already
    stored (a store from an earlier schema); False if it has none."""
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'").fetchone()
    try:
        with transaction(db):
            _script(db, _FULLTEXT)
            if not exists:
                db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    except sqlite3.OperationalError as exc:
        if "fts5" in str(exc).lower():
            return False
        raise
    return True


def _script(db: sqlite3.Connection, script: str) -> None:
    """Run the statements of `script` one by one (executescript would commit)."""
    statement = ""
    for line in script.strip().splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


def _upgrade(db: sqlite3.Connection, version: int) -> None:
    """Bring an older schema up to date, all steps or none."""
    with transaction(db):
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for sql in _UPGRADES[step]:
                db.execute(sql)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def device_id_of(store: ChatStore, override: str | None) -> str:
    """The installation's device id: generated once, kept in the data dir."""
    if override:
        return override
    device_id = store.setting("device_id")
    if device_id is None:
        device_id = new_id()
        store.set_setting("device_id", device_id)
    return device_id
