"""Find in a tab (tui/model/find.py) and the store queries under it: every occurrence of the text
as typed, in any case and any script, over the whole history (not only what is loaded)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tui.model.find import Find, Hit
from tui.store import ChatStore, StoredMessage
from tui.store.search import occurrences


def message(msg_id: str, text: str, role: str = "user", row: int = 0) -> StoredMessage:
    return StoredMessage(msg_id, role, text, "complete", "2026", row)


def test_every_occurrence_counts_and_the_cursor_starts_on_the_newest() -> None:
    find = Find.among(
        "Pelican", [message("a", "pelican, PELICAN", row=1), message("b", "a pelican", row=5)]
    )
    assert [find.hit(n) for n in range(find.total)] == [
        Hit("a", 1, 0),
        Hit("a", 1, 1),
        Hit("b", 5, 0),
    ]
    assert find.current == Hit("b", 5, 0) and find.summary == "3 of 3"
    assert find.step(-1) == Hit("a", 1, 1)
    assert find.step(-1) == Hit("a", 1, 0)
    assert find.step(-1) == Hit("b", 5, 0), "wraps around"
    assert find.step(1) == Hit("a", 1, 0)
    assert find.go_to("b") == Hit("b", 5, 0) and find.summary == "3 of 3"
    assert find.go_to("zzz") is None


def test_nothing_found_says_so_and_an_empty_text_finds_nothing() -> None:
    assert Find.among("owl", [message("a", "pelican")]).summary == "no match"
    assert Find.among("owl", []).step(1) is None
    assert Find.among("", [message("a", "")]).summary == ""


def test_the_text_is_never_a_pattern() -> None:
    find = Find.among("a.b(", [message("a", "axb( a.b( A.B(")])
    assert find.total == 2


def test_an_error_is_found_as_its_box_shows_it() -> None:
    assert Find.among("error: no", [message("e", "no reply", role="error")]).total == 1


def test_the_store_finds_over_the_whole_session_in_any_script(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "history.db")
    for n, text in enumerate(["Straße ÉTÉ", "été", "nothing", "ÉTÉ again"]):
        store.save("s1", message(f"m{n}", text))
    store.save("s2", message("other", "été elsewhere"))
    assert [(m, n) for m, _, n in store.occurrences("s1", "été")] == [
        ("m0", 1),
        ("m1", 1),
        ("m3", 1),
    ]
    assert [(m, n) for m, _, n in store.occurrences("s1", "T")] == [
        ("m0", 2),
        ("m1", 1),
        ("m2", 1),
        ("m3", 1),
    ]
    assert store.occurrences("s1", "%") == [], "LIKE syntax is text"
    assert store.occurrences("s1", "") == []
    _, first, _ = store.occurrences("s1", "straße")[0]
    assert [m.msg_id for m in store.since("s1", first, first + 2)] == ["m0", "m1"]


@given(st.text(max_size=12), st.text(max_size=30))
def test_the_store_and_the_finder_agree(term: str, text: str) -> None:
    """The store's function (for texts beyond ASCII) counts as Find does in memory."""
    assume(not term.isascii())
    assert occurrences(text, term) == Find.among(term, [message("a", text)]).total


@settings(max_examples=60, deadline=None)
@given(st.text("abcAB .%_é", max_size=6), st.text("abcAB .%_éÉ", max_size=30))
def test_the_store_finds_what_the_finder_counts(term: str, text: str) -> None:
    store = ChatStore(Path(tempfile.mkdtemp()) / "history.db")
    store.save("s", message("a", text))
    counts = store.occurrences("s", term)
    assert sum(n for _, _, n in counts) == Find.among(term, [message("a", text)]).total
    store.close()


def test_a_one_letter_search_counts_without_listing(tmp_path: Path) -> None:
    find = Find("e", [(f"m{n}", n, 1000) for n in range(100)])
    assert find.total == 100_000 and find.summary == "100,000 of 100,000"
    assert find.step(-1000) == Hit("m98", 98, 999)
