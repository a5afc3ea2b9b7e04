"""What arrives from the network or sits on disk cannot take the client down: odd text is
stored with replacement characters, undecodable frames are reported, a damaged history is set
aside, and the files that hold conversations are private whatever the umask."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.client.frames import Unexpected, clean_text, decode
from tui.client.protocol import ClientProtocol, ReplyChunk, ReplyDone, Strange
from tui.client.state import ConnectionState, Phase
from tui.store import ChatStore, StoredMessage

LONE = "\ud83d"  # the first half of 😀 (U+1F600), as a relay that cut the string leaves it
PAIR = ("\ud83d", "\ude00")


def chunk(text: str) -> str:
    return json.dumps({"type": "message", "content": text})  # ASCII-escaped, as JS sends it


def opened() -> ClientProtocol:
    protocol = ClientProtocol("t")
    protocol.start()
    protocol.receive("authenticated")
    protocol.receive(json.dumps({"type": "ready", "content": "", "features": {}}))
    protocol.expect_reply("m1")
    return protocol


def test_clean_text_joins_pairs_and_replaces_lone_halves() -> None:
    assert clean_text("plain") == "plain"
    assert clean_text(PAIR[0] + PAIR[1]) == "😀"
    assert clean_text(f"a{LONE}b") == "a\ufffdb"
    clean_text(f"x{LONE}").encode("utf-8")  # encodable: no exception


def test_an_emoji_cut_between_two_chunks_is_joined_again() -> None:
    protocol = opened()
    assert protocol.receive(chunk("smile " + PAIR[0])) == [ReplyChunk("m1", "smile ")]
    assert protocol.receive(chunk(PAIR[1] + " done")) == [ReplyChunk("m1", "😀 done")]
    (done,) = protocol.receive(json.dumps({"type": "complete", "message_count": 2}))
    assert isinstance(done, ReplyDone) and done.text == "smile 😀 done"


def test_a_lone_half_at_the_end_of_a_reply_becomes_a_replacement_character() -> None:
    protocol = opened()
    protocol.receive(chunk("cut here " + LONE))
    (done,) = protocol.receive(json.dumps({"type": "complete", "message_count": 2}))
    assert isinstance(done, ReplyDone) and done.text == "cut here \ufffd"
    done.text.encode("utf-8")


def test_every_decoded_text_is_clean() -> None:
    error = decode(json.dumps({"type": "error", "content": f"bad {LONE}", "detail": LONE}))
    assert "\ufffd" in repr(error) and LONE not in repr(error)
    ready = decode(json.dumps({"type": "ready", "content": LONE, "features": {LONE: True}}))
    assert LONE not in repr(ready)
    strange = decode(json.dumps({"type": LONE}))
    assert isinstance(strange, Unexpected) and LONE not in strange.raw + strange.why


def test_a_deeply_nested_frame_is_reported_not_raised() -> None:
    deep = "[" * 1000 + "]" * 1000  # 2 KB
    frame = decode(deep)
    assert isinstance(frame, Unexpected) and frame.why == "JSON nested too deeply"
    protocol = opened()
    (strange,) = protocol.receive('{"a":' * 5000 + "1" + "}" * 5000)
    assert isinstance(strange, Strange)


def test_text_sqlite_cannot_encode_is_stored_with_replacements(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "history.db")
    store.save("s", StoredMessage("m1", "assistant", f"half {LONE}", "complete", "t"))
    store.update_tab("none", draft=LONE)
    (message,) = store.recent("s", 10)
    assert message.text == "half \ufffd"


def damage(path: Path) -> None:
    """Overwrite a few whole pages in the middle of the file, as a disk error would."""
    pages = path.stat().st_size // 4096
    with path.open("r+b") as db:
        for page in range(pages // 2, pages // 2 + 3):
            db.seek(page * 4096)
            db.write(os.urandom(4096))


def test_a_damaged_history_is_set_aside_and_a_new_one_starts(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    store = ChatStore(path)
    for n in range(400):
        store.save("s", StoredMessage(f"m{n}", "user", "words " * 40, "sent", "t"))
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    damage(path)

    again = ChatStore(path)
    assert again.recovered is not None and "damaged" in again.recovered
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("history.db.damaged-")]
    assert kept, "the damaged file is kept, never deleted"
    assert kept[0].name in again.recovered
    assert again.recent("s", 10) == [] and again.open_tabs("http://x") == []
    again.save("s", StoredMessage("new", "user", "works", "sent", "t"))
    assert [m.text for m in again.recent("s", 10)] == ["works"]


def test_a_file_that_is_not_a_database_is_set_aside_too(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not SQLite" * 100)
    store = ChatStore(path)
    assert store.recovered is not None
    assert store.setting("device_id") is None


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o000)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_history_files_are_private_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    data = tmp_path / "fresh" / "data"
    store = ChatStore(data / "history.db")
    store.save("s", StoredMessage("m1", "user", "secret", "sent", "t"))
    assert mode(data) == 0o700 and mode(data.parent) == 0o700
    for name in ("history.db", "history.db-wal", "history.db-shm"):
        if (data / name).exists():
            assert mode(data / name) == 0o600, name


def test_states_say_what_kind_of_failure() -> None:
    assert "host name not found: nowhere.invalid" in ConnectionState(
        Phase.NOT_FOUND, "nowhere.invalid", 5.0
    ).label(0)
    silent = ConnectionState(Phase.NO_ANSWER, "http://h:1", 5.0).label(0)
    assert "took the connection but never answered" in silent
