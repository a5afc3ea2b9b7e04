"""The client and the mock each own `clean_text` (it is wire behaviour, and the mock shares no
code with the client); one vector, and one property, both must pass."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_backend.wire import clean_text as mock_clean_text
from tui.client.frames import clean_text as client_clean_text

SIDES = pytest.mark.parametrize("clean", [client_clean_text, mock_clean_text], ids=["tui", "mock"])

VECTOR = [
    ("plain", "plain"),
    ("", ""),
    ("\ud83d\ude00", "😀"),  # a pair, as a JavaScript string cut nowhere leaves it
    ("a\ud83db", "a\ufffdb"),  # a lone high half
    ("a\ude00b", "a\ufffdb"),  # a lone low half
    ("\ude00\ud83d", "\ufffd\ufffd"),  # halves in the wrong order
    ("x\ud83d", "x\ufffd"),  # cut at the end
    ("café ✓ 日本", "café ✓ 日本"),  # nothing to do
]


@SIDES
@pytest.mark.parametrize(("raw", "clean_expected"), VECTOR)
def test_both_sides_clean_the_same_vector(
    clean: Callable[[str], str], raw: str, clean_expected: str
) -> None:
    assert clean(raw) == clean_expected


@given(st.text(alphabet=st.characters(codec=None, blacklist_categories=())))
def test_both_sides_agree_and_always_give_encodable_text(raw: str) -> None:
    client, mock = client_clean_text(raw), mock_clean_text(raw)
    assert client == mock
    client.encode("utf-8")  # no exception: SQLite and the terminal can take it
