"""ChatStore: the one connection to the history file, and every read and write of tabs,
drafts, settings and messages (the package's docstring says how the history is kept)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from localdata.sqlite import Damaged, open_checked, transaction
from tui.client import attachments
from tui.client.activity import Approval, activity_of, approval_of
from tui.client.frames import clean_text
from tui.client.ids import new_id
from tui.store.records import (
    MESSAGE_COLUMNS,
    UNOWNED,
    LocalSession,
    SearchHit,
    Status,
    StoredMessage,
    StoreError,
    TabRow,
    message_of,
)
from tui.store.schema import SCHEMA, SCHEMA_VERSION, add_fulltext, upgrade
from tui.store.search import like_escaped, marked, occurrences, phrase


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
            upgrade(db, version)
        db.executescript(SCHEMA)
        self.fulltext = add_fulltext(db)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.create_function("occurrences", 2, occurrences, deterministic=True)

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
            TabRow(
                tab_id, position, provider, title, session_id, draft, attachments.loads(attached)
            )
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

    def save(self, session_id: str, message: StoredMessage) -> int:
        """Insert the message, or update its text and status where it stands (a reply saved
        while it streams keeps its place); returns its row."""
        cursor = self._run(
            "INSERT INTO messages(msg_id, session_id, role, text, status, timestamp, attachments,"
            " activity, device) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(msg_id) DO UPDATE SET"
            " text = excluded.text, status = excluded.status, activity = excluded.activity"
            " RETURNING id",
            (
                message.msg_id,
                session_id,
                message.role,
                message.text,
                message.status,
                message.timestamp,
                attachments.dumps(message.attachments),
                message.activity.dumps(),
                message.device,
            ),
        )
        return int(cursor.fetchone()[0])

    def save_progress(
        self, session_id: str, seq: int | None, replies: list[StoredMessage]
    ) -> list[int]:
        """Replies as far as they came and the number of the last frame they include, in one
        transaction: after a crash, resuming from that number repeats nothing and misses
        nothing. Returns the replies' rows."""
        try:
            with transaction(self._db):
                rows = [self.save(session_id, reply) for reply in replies]
                if seq is not None:
                    self._run(
                        "INSERT OR REPLACE INTO sessions(session_id, last_seq) VALUES (?, ?)",
                        (session_id, seq),
                    )
            return rows
        except sqlite3.Error as exc:
            raise StoreError(f"could not save to {self.path}: {exc}") from exc

    # approvals still open (docs/protocol.md §4.3) ----------------------------------------------

    def keep_approval(self, session_id: str, approval: Approval, asked_at: str) -> None:
        self._run(
            "INSERT OR REPLACE INTO approvals(session_id, approval_id, approval, asked_at)"
            " VALUES (?, ?, ?, ?)",
            (session_id, approval.id, json.dumps(approval.wire()), asked_at),
        )

    def drop_approval(self, session_id: str, approval_id: str | None = None) -> None:
        """An approval answered (None: every one of the session, its reply having ended)."""
        if approval_id is None:
            self._run("DELETE FROM approvals WHERE session_id = ?", (session_id,))
        else:
            self._run(
                "DELETE FROM approvals WHERE session_id = ? AND approval_id = ?",
                (session_id, approval_id),
            )

    def open_approvals(self, session_id: str) -> list[Approval]:
        rows = self._run(
            "SELECT approval FROM approvals WHERE session_id = ? ORDER BY asked_at",
            (session_id,),
        ).fetchall()
        found = []
        for (raw,) in rows:
            try:
                approval = approval_of(json.loads(raw))
            except ValueError:
                approval = None
            if approval is not None:
                found.append(approval)
        return found

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
            f"SELECT {MESSAGE_COLUMNS} FROM messages"
            f" WHERE session_id = ? AND status IN ({marks}) ORDER BY id",
            (session_id, *statuses),
        ).fetchall()
        return [message_of(row) for row in rows]

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
            f"SELECT {MESSAGE_COLUMNS} FROM messages"
            " WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (session_id, before_row if before_row is not None else 2**62, limit),
        ).fetchall()
        return [message_of(row) for row in reversed(rows)]

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
            query = " ".join(phrase(word) for word in words) + "*"
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
            params = (*(f"%{like_escaped(word)}%" for word in words), limit)
        rows = self._run(sql, params).fetchall()
        hits = [
            SearchHit(sid, msg_id, role, status, stamp, row, tab_id, title, bool(open_), *shown)
            for sid, msg_id, role, status, stamp, row, tab_id, title, open_, snippet in rows
            for shown in [marked(snippet, self.fulltext, words)]
        ]
        return self._with_work(select, words, hits, limit)

    def _with_work(
        self, select: str, words: list[str], hits: list[SearchHit], limit: int
    ) -> list[SearchHit]:
        """The replies whose agent's work names every word (a tool call's title or path: "Read
        app/parser.py"), among the text's hits, newest first. A scan of the replies that have
        work, which are few beside the messages the index covers."""
        sql = select.format(snippet="m.activity", source="messages m")
        sql += " WHERE m.activity IS NOT NULL AND "
        sql += " AND ".join("m.activity LIKE ? ESCAPE '\\'" for _ in words)
        sql += " ORDER BY m.id DESC LIMIT ?"
        params = (*(f"%{like_escaped(word)}%" for word in words), limit)
        seen = {hit.row for hit in hits}
        for sid, msg_id, role, status, stamp, row, tab_id, title, open_, raw in self._run(
            sql, params
        ).fetchall():
            work = activity_of(raw)
            named = [
                text
                for item in work.items
                for text in (item.title, *(loc.path for loc in item.locations))
                if all(word.casefold() in text.casefold() for word in words)
            ]
            if row in seen or not named:
                continue
            shown = marked(f"{named[0]} (the agent's work)", False, words)
            hits.append(
                SearchHit(sid, msg_id, role, status, stamp, row, tab_id, title, bool(open_), *shown)
            )
        hits.sort(key=lambda hit: hit.row, reverse=True)
        return hits[:limit]

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
            params: tuple[Any, ...] = (
                text.lower(),
                len(text),
                session_id,
                f"%{like_escaped(text)}%",
            )
        else:  # any other script: Python's folding, a function call per message
            sql = f"SELECT * FROM (SELECT msg_id, id, occurrences(s, ?) AS n FROM ({shown}))"
            sql += " WHERE n > 0 ORDER BY id"
            params = (text, session_id)
        return [(msg_id, row, int(n)) for msg_id, row, n in self._run(sql, params).fetchall()]

    def since(self, session_id: str, first_row: int, before_row: int) -> list[StoredMessage]:
        """The session's messages from `first_row` up to (not including) `before_row`."""
        rows = self._run(
            f"SELECT {MESSAGE_COLUMNS} FROM messages"
            " WHERE session_id = ? AND id >= ? AND id < ? ORDER BY id",
            (session_id, first_row, before_row),
        ).fetchall()
        return [message_of(row) for row in rows]

    def session_messages(self, session_id: str) -> list[StoredMessage]:
        """All of a session's messages, oldest first (export)."""
        rows = self._run(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [message_of(row) for row in rows]

    def sessions(self) -> list[LocalSession]:
        """Every session this machine has history for, most recent first, with its tab."""
        rows = self._run(
            "SELECT m.session_id, COUNT(*), MAX(m.timestamp), COALESCE(t.provider, ''),"
            " COALESCE(t.title, ''), COALESCE(t.tab_id, ''), COALESCE(t.backend, ''),"
            " t.tab_id IS NOT NULL AND t.closed_at IS NULL,"
            " (SELECT COUNT(*) FROM approvals a WHERE a.session_id = m.session_id)"
            " FROM messages m LEFT JOIN tabs t ON t.session_id = m.session_id"
            " GROUP BY m.session_id ORDER BY MAX(m.id) DESC"
        ).fetchall()
        return [
            LocalSession(sid, count, last, provider, title, tab_id, backend, bool(open_), asking)
            for sid, count, last, provider, title, tab_id, backend, open_, asking in rows
        ]


def device_id_of(store: ChatStore, override: str | None) -> str:
    """The installation's device id: generated once, kept in the data dir."""
    if override:
        return override
    device_id = store.setting("device_id")
    if device_id is None:
        device_id = new_id()
        store.set_setting("device_id", device_id)
    return device_id
