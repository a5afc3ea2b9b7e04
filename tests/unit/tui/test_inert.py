"""The one rule for text from outside: on a terminal it is shown, never obeyed."""

from __future__ import annotations

import io
import os
import re

from hypothesis import given
from hypothesis import strategies as st

from tui.client.inert import for_stream, inert, inert_line, inert_name, is_inert
from tui.client.notices import NoticeBudget

HOSTILE = [
    "\x1b]0;PWNED-TITLE\x07",
    "\x1b]2;title\x1b\\",
    "\x1b]52;c;cm0gLXJmIH4=\x07",
    "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",
    "\x1b[2J\x1b[H",
    "\x1bP+q544e\x1b\\",
    "\x1b_apc\x1b\\",
    "\x9b2J",
    "\x9d0;t\x9c",
    "\r\x08\x7f\x00",
]
ESCAPE_FAMILY = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_every_control_character_is_shown_as_a_stand_in() -> None:
    every = "".join(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)])
    shown = inert(every)
    assert is_inert(shown)
    assert "␛" in shown and "␇" in shown and "␡" in shown and "⟨U+009B⟩" in shown
    assert "\t" in shown and "\n" in shown, "a reply keeps its tabs and lines"
    assert "\n" not in inert_line(every) and "\t" not in inert_line(every)


def test_each_escape_family_is_readable_and_inert() -> None:
    for text in HOSTILE:
        shown = inert(text)
        assert not ESCAPE_FAMILY.search(shown), text
    assert inert(HOSTILE[0]) == "␛]0;PWNED-TITLE␇"


def test_plain_text_comes_back_as_it_is() -> None:
    text = "Hello — **bold** [/] `code`\n\tindented 👍 עברית"
    assert inert(text) is text


def test_bidi_overrides_are_shown_everywhere_and_joiners_kept_in_prose() -> None:
    code = "access = 'user\u202e \u2066// admin\u2069'"
    assert inert(code) == "access = 'user⟨U+202E⟩ ⟨U+2066⟩// admin⟨U+2069⟩'"
    assert inert("👩\u200d💻 \u200fשלום") == "👩\u200d💻 \u200fשלום"


def test_names_show_what_disguises_them() -> None:
    assert inert_name("invoice\u202egnp.exe") == "invoice⟨U+202E⟩gnp.exe"
    assert inert_name("a\u200bb\ufeff\U000e0041") == "a⟨U+200B⟩b⟨U+FEFF⟩⟨U+E0041⟩"
    assert inert_name("dev-claude-1\n") == "dev-claude-1␊"
    assert inert_name("plain-id") == "plain-id"


@given(st.text())
def test_nothing_that_comes_out_acts_on_a_terminal(text: str) -> None:
    for made in (inert, inert_line, inert_name):
        assert is_inert(made(text))


def test_a_pipe_gets_the_bytes_a_terminal_the_inert_form() -> None:
    text = "".join(HOSTILE)
    assert for_stream(text, io.StringIO()) == text
    read, write = os.openpty()
    try:
        with os.fdopen(write, "w", closefd=False) as tty:
            assert for_stream(text, tty) == inert(text)
    finally:
        os.close(read)
        os.close(write)


def test_a_notice_flood_shows_a_few_then_counts_the_rest() -> None:
    budget = NoticeBudget(burst=3, window=10)
    shown = [budget.take(t * 0.001, f"odd frame {t}") for t in range(1000)]
    assert shown.count(True) == 3
    summary = budget.summary()
    assert summary is not None and "997 more notices" in summary and "odd frame 999" in summary
    assert budget.summary() is None
    assert budget.take(11.0, "later"), "a new window shows notices again"
