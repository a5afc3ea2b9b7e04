"""SQLite storage for sessions: one row per session, one row per message, appended as it happens.

The reference server rewrote each session's whole history as a JSON blob on every message, so
storing a message grew with the history. Here a message is one INSERT plus a one-row UPDATE,
whatever the history's length. The `sessions` table keeps the reference's columns so the seed's
`SELECT session_id, agent_type, last_activity FROM sessions;` still works; its `data` column
holds what is fixed at creation (the system context), never the messages.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localdata.sqlite import Damaged, NotSQLite, open_checked, transaction

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
"""3 added `inbox.sender` (sync: who sent each message); 2 added `inbox` and `frames` (the
delivery extension); 1 opens as is, tables are added."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id    TEXT PRIMARY KEY,
    agent_type    TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    data          TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    last_activity TEXT NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    content    TEXT NOT NULL,
    timestamp  TEXT NOT NULL,
    metadata   TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
CREATE INDEX IF NOT EXISTS sessions_by_activity ON sessions(last_activity);
CREATE TABLE IF NOT EXISTS inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    content     TEXT NOT NULL,
    attachments TEXT,
    state       TEXT NOT NULL,
    ack_seq     INTEGER NOT NULL,
    sender      TEXT,
    UNIQUE (session_id, client_id)
);
CREATE INDEX IF NOT EXISTS inbox_by_state ON inbox(state, session_id, id);
CREATE TABLE IF NOT EXISTS frames (
    session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    frame      TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
"""
UNFINISHED = ("queued", "replying")
"""Inbox states of a message whose reply has not ended."""


class StoreError(Exception):
    """Storage failed (disk full, unreadable file, ...); the message says what and where."""


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    agent_type: str
    device_id: str
    data: dict[str, Any]
    created_at: str
    last_activity: str
    message_count: int


@dataclass(frozen=True)
class InboxEntry:
    """A message taken with a client id (delivery extension): acknowledged once stored here,
    answered exactly once, whatever the socket does."""

    session_id: str
    client_id: str
    content: str
    attachments: list[dict[str, Any]]
    state: str
    """queued → replying → complete | error | interrupted | stopped"""
    ack_seq: int
    sender: dict[str, str] = field(default_factory=dict)
    """Who sent it: `device_id`, and `device_name` if the device gave one (sync)."""


@dataclass(frozen=True)
class StoredMessage:
    role: str
    content: str
    timestamp: str
    metadata: dict[str, Any] | None


class SessionStore:
    """All SQL of the mock. Not thread-safe: used from the server's event loop only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []
        """What was wrong with the file at start (health reports it): a damaged database set
        aside, WAL frames that could not be used."""
        try:
            opened = open_checked(path, self._setup, "session database", refuse_foreign=True)
        except NotSQLite:
            raise StoreError(
                f"cannot open session database {path}: it is not an SQLite database "
                "(--db names the file to use; give a new path to start one)"
            ) from None
        except (sqlite3.Error, OSError, Damaged) as exc:
            raise StoreError(f"cannot open session database {path}: {exc}") from exc
        self._db = opened.db
        self.problems = opened.problems
        for problem in self.problems:
            log.error("session database: %s", problem)

    def _setup(self, db: sqlite3.Connection) -> None:
        """The schema (run by `open_checked` on a file that passed SQLite's check)."""
        db.execute("PRAGMA foreign_keys=ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer version (schema {version}); "
                "upgrade builderos or use another --db"
            )
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(inbox)")}
        if "sender" not in columns:  # a schema 2 file: its messages' senders are unknown
            db.execute("ALTER TABLE inbox ADD COLUMN sender TEXT")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        try:
            with transaction(self._db):
                yield self._db
        except sqlite3.Error as exc:
            raise StoreError(f"could not {what} in {self.path}: {exc}") from exc

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        try:
            cursor = self._db.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"could not read {self.path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    # sessions -------------------------------------------------------------------------------

    def create_session(
        self,
        session_id: str,
        agent_type: str,
        device_id: str,
        created_at: str,
        data: dict[str, Any],
    ) -> None:
        with self._transaction("create a session") as db:
            db.execute(
                "INSERT INTO sessions(session_id, agent_type, device_id, data, created_at,"
                " last_activity, message_count) VALUES (?, ?, ?, ?, ?, ?, 0)",
                (session_id, agent_type, device_id, json.dumps(data), created_at, created_at),
            )

    def set_session_value(self, session_id: str, key: str, value: Any) -> None:
        """One entry of a session's `data` (the agent's own session ids live there)."""
        with self._transaction("update a session") as db:
            db.execute(
                "UPDATE sessions SET data = json_set(data, ?, json(?)) WHERE session_id = ?",
                (f"$.{key}", json.dumps(value), session_id),
            )

    def get_session(self, session_id: str) -> SessionRow | None:
        rows = self._read("SELECT * FROM sessions WHERE session_id = ?", (session_id,))
        return _session_row(rows[0]) if rows else None

    def sessions_active_since(self, cutoff_iso: str) -> list[SessionRow]:
        rows = self._read(
            "SELECT * FROM sessions WHERE last_activity >= ? ORDER BY last_activity", (cutoff_iso,)
        )
        return [_session_row(r) for r in rows]

    def delete_idle_before(self, cutoff_iso: str) -> int:
        with self._transaction("delete idle sessions") as db:
            return db.execute(
                "DELETE FROM sessions WHERE last_activity < ?", (cutoff_iso,)
            ).rowcount

    def count_sessions(self) -> int:
        return int(self._read("SELECT COUNT(*) AS n FROM sessions")[0]["n"])

    # messages -------------------------------------------------------------------------------

    def append_message(
        self,
        session_id: str,
        role: str,
        content: str,
        timestamp: str,
        metadata: dict[str, Any] | None = None,
    ) -> int:
        """Append one message; returns the session's message count after it."""
        with self._transaction("store a message") as db:
            db.execute(
                "INSERT INTO messages(session_id, role, content, timestamp, metadata)"
                " VALUES (?, ?, ?, ?, ?)",
                (session_id, role, content, timestamp, json.dumps(metadata) if metadata else None),
            )
            row = db.execute(
                "UPDATE sessions SET last_activity = ?, message_count = message_count + 1"
                " WHERE session_id = ? RETURNING message_count",
                (timestamp, session_id),
            ).fetchone()
            if row is None:
                raise StoreError(f"session {session_id!r} is not stored")
            return int(row[0])

    def last_role(self, session_id: str) -> str | None:
        rows = self._read(
            "SELECT role FROM messages WHERE session_id = ? ORDER BY id DESC LIMIT 1", (session_id,)
        )
        return rows[0]["role"] if rows else None

    def recent_messages(self, session_id: str, limit: int) -> list[StoredMessage]:
        """The last `limit` messages of a session, oldest first."""
        rows = self._read(
            "SELECT role, content, timestamp, metadata FROM messages WHERE session_id = ?"
            " ORDER BY id DESC LIMIT ?",
            (session_id, limit),
        )
        return [_message(r) for r in reversed(rows)]

    def recent_within(
        self, session_id: str, limit: int, max_chars: int
    ) -> tuple[list[StoredMessage], int]:
        """The last `limit` messages, newest back, while their text stays within `max_chars`
        (the newest always); and how many of the last `limit` were left out. Sizes are read
        first, so a 10 MB history costs one small query, not 10 MB of rows."""
        sizes = self._read(
            "SELECT id, length(content) AS size FROM messages WHERE session_id = ?"
            " ORDER BY id DESC LIMIT ?",
            (session_id, limit),
        )
        chosen: list[int] = []
        total = 0
        for row in sizes:
            total += row["size"] or 0
            if chosen and total > max_chars:
                break
            chosen.append(row["id"])
        if not chosen:
            return [], 0
        marks = ", ".join("?" * len(chosen))
        rows = self._read(
            "SELECT role, content, timestamp, metadata FROM messages"
            f" WHERE id IN ({marks}) ORDER BY id",
            tuple(chosen),
        )
        return [_message(r) for r in rows], len(sizes) - len(chosen)

    def page_messages(
        self, session_id: str, before: int | None, limit: int
    ) -> tuple[int, list[tuple[int, StoredMessage]]]:
        """The session's message count, and up to `limit` messages numbered below `before`
        (default: the newest), oldest first, each with its number (increasing in a session)."""
        total = self._read(
            "SELECT COUNT(*) AS n FROM messages WHERE session_id = ?", (session_id,)
        )[0]["n"]
        rows = self._read(
            "SELECT id, role, content, timestamp, metadata FROM messages"
            " WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (session_id, before if before is not None else 2**62, limit),
        )
        return int(total), [(int(r["id"]), _message(r)) for r in reversed(rows)]

    def all_messages(self, session_id: str) -> list[StoredMessage]:
        rows = self._read(
            "SELECT role, content, timestamp, metadata FROM messages WHERE session_id = ?"
            " ORDER BY id",
            (session_id,),
        )
        return [_message(r) for r in rows]

    # the delivery extension: inbox and numbered frames -----------------------------------------

    def _journal(self, db: sqlite3.Connection, session_id: str, frame: dict[str, Any]) -> int:
        seq = int(
            db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM frames WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
        )
        frame["seq"] = seq
        db.execute(
            "INSERT INTO frames(session_id, seq, frame) VALUES (?, ?, ?)",
            (session_id, seq, json.dumps(frame)),
        )
        return seq

    def journal(self, session_id: str, frame: dict[str, Any]) -> int:
        """Number a reply frame (sets `frame["seq"]`) and keep it for resume; returns the seq."""
        with self._transaction("record a reply frame") as db:
            return self._journal(db, session_id, frame)

    def queue_message(
        self,
        session_id: str,
        client_id: str,
        content: str,
        attachments: list[dict[str, Any]],
        ack: dict[str, Any],
        turn: dict[str, Any] | None = None,
        sender: dict[str, str] | None = None,
    ) -> int:
        """Take a message into the inbox and journal its acknowledgement (after the `turn`
        every device follows), in one transaction: acknowledged means stored. Returns the ack's
        seq."""
        with self._transaction("store a message") as db:
            if turn is not None:  # first: a device that did not send it knows the id the ack names
                self._journal(db, session_id, turn)
            seq = self._journal(db, session_id, ack)
            db.execute(
                "INSERT INTO inbox(session_id, client_id, content, attachments, state, ack_seq,"
                " sender) VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                (
                    session_id,
                    client_id,
                    content,
                    json.dumps(attachments) if attachments else None,
                    seq,
                    json.dumps(sender) if sender else None,
                ),
            )
            return seq

    def inbox_entry(self, session_id: str, client_id: str) -> InboxEntry | None:
        rows = self._read(
            "SELECT * FROM inbox WHERE session_id = ? AND client_id = ?", (session_id, client_id)
        )
        return _inbox_entry(rows[0]) if rows else None

    def next_queued(self, session_id: str) -> InboxEntry | None:
        rows = self._read(
            "SELECT * FROM inbox WHERE session_id = ? AND state = 'queued' ORDER BY id LIMIT 1",
            (session_id,),
        )
        return _inbox_entry(rows[0]) if rows else None

    def unfinished(self, session_id: str | None = None) -> list[InboxEntry]:
        """Messages whose reply has not ended (of one session, or all), in arrival order."""
        rows = self._read(
            "SELECT * FROM inbox WHERE state IN ('queued', 'replying')"
            + (" AND session_id = ?" if session_id is not None else "")
            + " ORDER BY id",
            (session_id,) if session_id is not None else (),
        )
        return [_inbox_entry(r) for r in rows]

    def set_inbox_state(self, session_id: str, client_id: str, state: str) -> None:
        with self._transaction("update a message's state") as db:
            db.execute(
                "UPDATE inbox SET state = ? WHERE session_id = ? AND client_id = ?",
                (state, session_id, client_id),
            )

    def frames_after(self, session_id: str, seq: int, limit: int = 500) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT frame FROM frames WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (session_id, seq, limit),
        )
        return [json.loads(r["frame"]) for r in rows]

    def last_seq(self, session_id: str) -> int:
        rows = self._read(
            "SELECT COALESCE(MAX(seq), 0) AS seq FROM frames WHERE session_id = ?", (session_id,)
        )
        return int(rows[0]["seq"])


def _inbox_entry(row: sqlite3.Row) -> InboxEntry:
    attachments = json.loads(row["attachments"]) if row["attachments"] else []
    return InboxEntry(
        row["session_id"],
        row["client_id"],
        row["content"],
        attachments,
        row["state"],
        row["ack_seq"],
        _sender(row["sender"]),
    )


def _sender(raw: str | None) -> dict[str, str]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}


def _session_row(row: sqlite3.Row) -> SessionRow:
    try:
        data = json.loads(row["data"] or "{}")
    except ValueError:
        data = {}
    return SessionRow(
        session_id=row["session_id"],
        agent_type=row["agent_type"],
        device_id=row["device_id"],
        data=data if isinstance(data, dict) else {},
        created_at=row["created_at"],
        last_activity=row["last_activity"],
        message_count=row["message_count"],
    )


def _message(row: sqlite3.Row) -> StoredMessage:
    metadata = json.loads(row["metadata"]) if row["metadata"] else None
    return StoredMessage(row["role"], row["content"], row["timestamp"], metadata)
