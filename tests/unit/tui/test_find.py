"""Find in a tab (tui/find.py) and the store queries under it: every occurrence of the text
as typed, in any case and any script, over the whole history (not only what is loaded)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tui.find import Find, Hit
from tui.store import ChatStore, StoredMessage, _holds


def message(msg_id: str, text: str, role: str = "user", row: int = 0) -> StoredMessage:
    return StoredMessage(msg_id, role, text, "complete", "2026", row)


def test_every_occurrence_counts_and_the_cursor_starts_on_the_newest() -> None:
    find = Find(
        "Pelican", [message("a", "pelican, PELICAN", row=1), message("b", "a pelican", row=5)]
    )
    assert find.hits == [Hit("a", 1, 0), Hit("a", 1, 1), Hit("b", 5, 0)]
    assert find.current == Hit("b", 5, 0) and find.summary == "3 of 3"
    assert find.step(-1) == Hit("a", 1, 1)
    assert find.step(-1) == Hit("a", 1, 0)
    assert find.step(-1) == Hit("b", 5, 0), "wraps around"
    assert find.step(1) == Hit("a", 1, 0)
    assert find.go_to("b") == Hit("b", 5, 0) and find.summary == "3 of 3"
    assert find.go_to("zzz") is None


def test_nothing_found_says_so_and_an_empty_text_finds_nothing() -> None:
    assert Find("owl", [message("a", "pelican")]).summary == "no match"
    assert Find("owl", []).step(1) is None
    assert Find("", [message("a", "")]).summary == ""


def test_the_text_is_never_a_pattern() -> None:
    find = Find("a.b(", [message("a", "axb( a.b( A.B(")])
    assert len(find.hits) == 2


def test_an_error_is_found_as_its_box_shows_it() -> None:
    assert len(Find("error: no", [message("e", "no reply", role="error")]).hits) == 1


def test_the_store_finds_over_the_whole_session_in_any_script(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "history.db")
    for n, text in enumerate(["Straße ÉTÉ", "été", "nothing", "ÉTÉ again"]):
        store.save("s1", message(f"m{n}", text))
    store.save("s2", message("other", "été elsewhere"))
    assert [m.msg_id for m in store.containing("s1", "été")] == ["m0", "m1", "m3"]
    assert [m.msg_id for m in store.containing("s1", "%")] == [], "LIKE syntax is text"
    assert store.containing("s1", "") == []
    first = store.containing("s1", "straße")[0]
    assert [m.msg_id for m in store.since("s1", first.row, first.row + 2)] == ["m0", "m1"]


@given(st.text(max_size=12), st.text(max_size=30))
def test_the_store_and_the_finder_agree(term: str, text: str) -> None:
    """What the store's query returns holds at least one occurrence Find counts."""
    found = Find(term, [message("a", text)]).hits
    assert _holds(text, term) == bool(found)
