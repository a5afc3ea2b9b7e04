"""The history database written by the previous release (schema 1) opens, upgraded in place:
its tabs are adopted by the first backend opened, answered messages become `acknowledged`, and
nothing is lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tui.client.activity import Activity, ActivityItem, Approval
from tui.client.attachments import Attachment, dumps
from tui.store import SCHEMA_VERSION, ChatStore, StoredMessage

SCHEMA_1 = """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tabs (
    tab_id TEXT PRIMARY KEY, position INTEGER NOT NULL, provider TEXT NOT NULL,
    title TEXT NOT NULL, session_id TEXT NOT NULL, draft TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL, closed_at TEXT
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, msg_id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL,
    role TEXT NOT NULL, text TEXT NOT NULL, status TEXT NOT NULL, timestamp TEXT NOT NULL
);
INSERT INTO tabs VALUES ('t1', 0, 'claude', 'Old tab', 's1', 'a draft', '2026', NULL);
INSERT INTO messages(msg_id, session_id, role, text, status, timestamp) VALUES
    ('m1', 's1', 'user', 'answered long ago', 'sent', '2026'),
    ('m2', 's1', 'assistant', 'the answer', 'complete', '2026'),
    ('m3', 's1', 'user', 'never written', 'pending', '2026');
PRAGMA user_version = 1;
"""


def test_a_schema_1_history_is_upgraded_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as old:
        old.executescript(SCHEMA_1)
    store = ChatStore(path)
    assert store.adopt_unowned_tabs("http://mac:8080") == 1
    assert [t.title for t in store.open_tabs("http://mac:8080")] == ["Old tab"]
    assert store.open_tabs("demo") == [], "another backend does not see them"
    statuses = [(m.text, m.status) for m in store.recent("s1", 10)]
    assert statuses == [
        ("answered long ago", "acknowledged"),
        ("the answer", "complete"),
        ("never written", "pending"),
    ]
    assert store.last_seq("s1") is None
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


SCHEMA_3 = """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tabs (
    tab_id TEXT PRIMARY KEY, position INTEGER NOT NULL, provider TEXT NOT NULL,
    title TEXT NOT NULL, session_id TEXT NOT NULL, draft TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL, closed_at TEXT, backend TEXT NOT NULL DEFAULT ''
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, msg_id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL,
    role TEXT NOT NULL, text TEXT NOT NULL, status TEXT NOT NULL, timestamp TEXT NOT NULL
);
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
INSERT INTO tabs VALUES ('t1', 0, 'claude', 'Tab', 's1', 'draft', '2026', NULL, 'demo');
INSERT INTO messages(msg_id, session_id, role, text, status, timestamp) VALUES
    ('m1', 's1', 'user', 'before attachments', 'acknowledged', '2026');
PRAGMA user_version = 3;
"""


def test_a_schema_3_history_gains_attachments_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as old:
        old.executescript(SCHEMA_3)
    store = ChatStore(path)
    [tab] = store.open_tabs("demo")
    assert (tab.draft, tab.draft_attachments) == ("draft", ())
    [old_message] = store.recent("s1", 10)
    assert (old_message.text, old_message.attachments) == ("before attachments", ())
    notes = Attachment("a1", "notes.txt", "text/plain", 3, "document", "http://h/uploads/notes.txt")
    store.save(
        "s1", StoredMessage("m2", "user", "with a file", "pending", "2026", attachments=(notes,))
    )
    store.update_tab("t1", draft_attachments=dumps([notes]))
    store.close()
    again = ChatStore(path)
    assert [m.attachments for m in again.recent("s1", 10)] == [(), (notes,)]
    assert again.pending("s1")[0].attachments == (notes,)
    assert again.open_tabs("demo")[0].draft_attachments == (notes,)
    assert [hit.msg_id for hit in again.search("before")] == ["m1"], "indexed at the upgrade"
    again.close()


SCHEMA_4 = """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tabs (
    tab_id TEXT PRIMARY KEY, position INTEGER NOT NULL, provider TEXT NOT NULL,
    title TEXT NOT NULL, session_id TEXT NOT NULL, draft TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL, closed_at TEXT, backend TEXT NOT NULL DEFAULT '',
    draft_attachments TEXT
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, msg_id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL,
    role TEXT NOT NULL, text TEXT NOT NULL, status TEXT NOT NULL, timestamp TEXT NOT NULL,
    attachments TEXT
);
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
INSERT INTO tabs VALUES ('t1', 0, 'claude', 'Tab', 's1', 'draft', '2026', NULL, 'demo', NULL);
INSERT INTO messages(msg_id, session_id, role, text, status, timestamp) VALUES
    ('m1', 's1', 'user', 'before attachments', 'acknowledged', '2026');
PRAGMA user_version = 4;
"""


def test_a_schema_4_history_gains_activity_and_open_approvals(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as old:
        old.executescript(SCHEMA_4)
    store = ChatStore(path)
    [old_message] = store.recent("s1", 10)
    assert old_message.text == "before attachments" and not old_message.activity
    work = Activity((ActivityItem("t1", "edit", "Edit a.py", "completed", 3),))
    store.save(
        "s1", StoredMessage("m1:reply", "assistant", "done", "complete", "2026", activity=work)
    )
    question = Approval("a1", ActivityItem("t2", "execute", "Run ls", "pending"), reply_to="m1")
    store.keep_approval("s1", question, "2026")
    store.close()
    again = ChatStore(path)
    assert again.recent("s1", 10)[-1].activity == work
    assert again.open_approvals("s1") == [question]
    again.close()


def test_a_schema_5_history_gains_the_sending_device(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as old:
        old.executescript(SCHEMA_4.replace("PRAGMA user_version = 4;", ""))
        old.executescript(
            "ALTER TABLE messages ADD COLUMN activity TEXT;"
            "CREATE TABLE approvals (session_id TEXT NOT NULL, approval_id TEXT NOT NULL,"
            " approval TEXT NOT NULL, asked_at TEXT NOT NULL,"
            " PRIMARY KEY (session_id, approval_id));"
            "PRAGMA user_version = 5;"
        )
    store = ChatStore(path)
    [old_message] = store.recent("s1", 10)
    assert old_message.text == "before attachments" and old_message.device is None
    store.save(
        "s1", StoredMessage("p1", "user", "from the phone", "acknowledged", "2026", device="PHONE")
    )
    store.close()
    again = ChatStore(path)
    assert [m.device for m in again.recent("s1", 10)] == [None, "PHONE"]
    assert SCHEMA_VERSION == 6
    again.close()
