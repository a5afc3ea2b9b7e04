"""The history's schema: the tables of this version, the full-text index, and the upgrade of
an older file (tui.store.upgrades, one module per version)."""

from __future__ import annotations

import sqlite3

from localdata.sqlite import transaction
from tui.store.upgrades import STEPS

SCHEMA_VERSION = 6
SCHEMA = """
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
    attachments TEXT,
    activity   TEXT,
    device     TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
CREATE TABLE IF NOT EXISTS approvals (
    session_id  TEXT NOT NULL,
    approval_id TEXT NOT NULL,
    approval    TEXT NOT NULL,
    asked_at    TEXT NOT NULL,
    PRIMARY KEY (session_id, approval_id)
);
CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
"""
FULLTEXT = """
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


def add_fulltext(db: sqlite3.Connection) -> bool:
    """Create the full-text index if this SQLite has FTS5, filled from the messages already
    stored (a store from an earlier schema); False if it has none."""
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'").fetchone()
    try:
        with transaction(db):
            _script(db, FULLTEXT)
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


def upgrade(db: sqlite3.Connection, version: int) -> None:
    """Bring an older schema up to date, all steps or none."""
    with transaction(db):
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for sql in STEPS[step]:
                db.execute(sql)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
