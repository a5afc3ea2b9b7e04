"""Full-text search of the local history (schema 3): every word must match, the last as a
prefix; what the user types is never query syntax; the index follows every save; a store
written by the previous release (schema 2) is indexed in place when opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.client.activity import Activity, ActivityItem, Location
from tui.store import SCHEMA_VERSION, ChatStore, StoredMessage, TabRow

SCHEMA_2 = """
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
CREATE INDEX messages_by_session ON messages(session_id, id);
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
INSERT INTO tabs VALUES ('t1', 0, 'claude', 'Reviews', 's1', '', '2026', NULL, 'demo');
INSERT INTO tabs VALUES ('t2', 1, 'codex', 'Closed one', 's2', '', '2026', '2026', 'demo');
INSERT INTO messages(msg_id, session_id, role, text, status, timestamp) VALUES
    ('m1', 's1', 'user', 'What was the code word?', 'acknowledged', '2026'),
    ('m2', 's1', 'assistant', 'The code word is pelican.', 'complete', '2026'),
    ('m3', 's2', 'user', 'Refactor the pelican parser', 'acknowledged', '2026');
PRAGMA user_version = 2;
"""


@pytest.fixture
def store(tmp_path: Path) -> ChatStore:
    store = ChatStore(tmp_path / "history.db")
    store.add_tab(TabRow("t1", 0, "claude", "Reviews", "s1", ""), "2026", "demo")
    for msg_id, role, text in [
        ("a", "user", "What is the code word for the café?"),
        ("b", "assistant", "The code word is *pelican*."),
        ("c", "user", "Unrelated: fix the parser"),
    ]:
        store.save("s1", StoredMessage(msg_id, role, text, "complete", "2026"))
    return store


def test_every_word_matches_the_last_as_a_prefix(store: ChatStore) -> None:
    assert store.fulltext
    assert {h.msg_id for h in store.search("code word")} == {"a", "b"}
    assert [h.msg_id for h in store.search("pelic")] == ["b"]
    assert [h.msg_id for h in store.search("cafe")] == ["a"], "accents do not matter"
    assert store.search("code parser") == []
    hit = store.search("pelican")[0]
    assert (hit.tab_id, hit.title, hit.open, hit.role) == ("t1", "Reviews", True, "assistant")
    assert "[pelican]" in hit.snippet


def test_the_index_follows_a_reply_that_grows_and_changes(store: ChatStore) -> None:
    store.save("s1", StoredMessage("b", "assistant", "Now it is albatross.", "complete", "2026"))
    assert store.search("pelican") == []
    assert [h.msg_id for h in store.search("albatross")] == ["b"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_whatever_is_typed_is_searched_for_never_an_error(tmp_path_factory, text: str) -> None:
    store = ChatStore(tmp_path_factory.mktemp("s") / "history.db")
    store.save("s", StoredMessage("m", "user", 'some text (with) "quotes" AND OR', "complete", "t"))
    store.search(text)  # FTS5 syntax ('"', '(', 'AND', '*', ':') is only ever a word
    store.close()


def test_without_fts5_search_still_answers(store: ChatStore) -> None:
    store.fulltext = False  # as on an SQLite built without FTS5
    assert {h.msg_id for h in store.search("code word")} == {"a", "b"}
    assert [h.msg_id for h in store.search("100%_")] == []


def test_a_schema_2_store_is_indexed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as old:
        old.executescript(SCHEMA_2)
    store = ChatStore(path)
    assert {(h.msg_id, h.title, h.open) for h in store.search("pelican")} == {
        ("m2", "Reviews", True),
        ("m3", "Closed one", False),
    }
    store.save("s1", StoredMessage("m4", "user", "and the albatross?", "pending", "2026"))
    assert [h.msg_id for h in store.search("albatross")] == ["m4"]
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    reopened = ChatStore(path)  # opening again neither fails nor indexes twice
    assert len(reopened.search("pelican")) == 2
    assert [s.session_id for s in reopened.sessions()] == ["s1", "s2"]


def test_a_result_says_where_its_words_are(store: ChatStore) -> None:
    hit = store.search("pelican")[0]
    start, end = hit.marks[0]
    assert hit.excerpt[start:end] == "pelican"
    assert "[" not in hit.excerpt


def test_without_fts5_the_scan_marks_the_words_too(store: ChatStore) -> None:
    store.fulltext = False
    hit = store.search("PELICAN")[0]
    assert [hit.excerpt[a:b] for a, b in hit.marks] == ["pelican"]
    assert "[pelican]" in hit.snippet


def test_the_agents_work_is_found_by_its_titles_and_paths(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "history.db")
    work = Activity(
        (
            ActivityItem(
                "t1", "read", "Read the config", "completed", locations=(Location("app/parser.py"),)
            ),
        )
    )
    store.save("s1", StoredMessage("m1", "user", "fix it", "acknowledged", "2026"))
    store.save(
        "s1", StoredMessage("m1:reply", "assistant", "Done.", "complete", "2026", activity=work)
    )
    store.save("s1", StoredMessage("m2", "user", "and parser.py again", "acknowledged", "2026"))
    hits = store.search("parser")
    assert [h.msg_id for h in hits] == ["m2", "m1:reply"], "the text's hit and the work's"
    assert hits[1].excerpt == "app/parser.py (the agent's work)"
    assert [h.msg_id for h in store.search("read config")] == ["m1:reply"]
