"""The composer alone, in a one-widget app: Up and Down recall the messages sent in the tab,
as a shell recalls commands, and never take the arrows from editing."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets.composer import Composer

SENT = ["newest", "two\nlines", "oldest"]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Composer(sent=lambda: SENT)


async def test_up_and_down_walk_through_what_was_sent() -> None:
    app = Host()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        composer.focus()
        await pilot.press("up")
        assert composer.text == "newest"
        await pilot.press("up")
        assert composer.text == "two\nlines"
        assert composer.cursor_location == (1, 5), "the cursor at the end"
        await pilot.press("up")  # on the last line: the arrow moves the cursor up first
        assert composer.text == "two\nlines" and composer.cursor_location[0] == 0
        await pilot.press("up")
        assert composer.text == "oldest"
        await pilot.press("up")
        assert composer.text == "oldest", "the oldest stays"
        await pilot.press("down")  # the cursor lands at the end: Down goes on at once
        assert composer.text == "two\nlines"
        await pilot.press("down")
        assert composer.text == "newest"
        await pilot.press("down")
        assert composer.text == "", "past the newest: empty again"


async def test_a_recalled_message_once_edited_is_a_draft() -> None:
    app = Host()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        composer.focus()
        await pilot.press("up", "!")
        assert composer.text == "newest!"
        await pilot.press("up")
        assert composer.text == "newest!", "Up no longer recalls: the text is the user's now"


async def test_up_in_a_draft_moves_the_cursor() -> None:
    app = Host()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        composer.focus()
        composer.insert("line one\nline two")
        await pilot.press("up")
        assert composer.text == "line one\nline two" and composer.cursor_location[0] == 0
