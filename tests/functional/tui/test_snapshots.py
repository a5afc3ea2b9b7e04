"""SVG snapshots of the main screen (pytest-textual-snapshot; `--snapshot-update` to accept).

Demo mode (the bundled mock in-process, pacing off) keeps the screen deterministic: the
simulated BridgeHub answers the same way every time and the header shows no port.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tests.functional.tui.apphelpers import (
    drawn,
    make_app,
    open_tab,
    replies_done,
    started,
    type_and_send,
    type_into,
    view,
    with_history,
)
from tests.functional.tui.test_find_and_sessions import closed_tab_with, find_count
from tui.widgets.composer import Composer

SIZE = (120, 40)


async def _freeze(pilot: Pilot) -> None:
    for composer in pilot.app.query(Composer):
        composer.cursor_blink = False
    await pilot.pause()


def test_several_tabs_and_a_streamed_markdown_reply(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        watch = await started(pilot)
        app = pilot.app
        await open_tab(pilot, "codex")
        await open_tab(pilot, "claude")
        await pilot.press("f2")
        app.screen.query_one("Input").value = "Reviews"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await type_and_send(pilot, "Show me a Python function that counts words, with a test")
        await watch.until(replies_done(app, 1))  # type: ignore[arg-type]
        view(app).log.scroll_home(animate=False)  # type: ignore[arg-type]
        await _freeze(pilot)

    assert snap_compare(make_app(tmp_path, None), terminal_size=SIZE, run_before=run_before)


def test_close_confirmation_dialog(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        await started(pilot)
        await open_tab(pilot, "codex")
        await _freeze(pilot)
        await pilot.press("f8")

    assert snap_compare(make_app(tmp_path, None), terminal_size=SIZE, run_before=run_before)


def test_find_marks_every_match_and_the_current_one(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        await started(pilot)
        await with_history(pilot.app, 40)  # type: ignore[arg-type]
        await _freeze(pilot)
        await pilot.press("ctrl+f")
        await type_into(pilot, "message 3")
        await drawn(pilot, lambda: find_count(view(pilot.app)) == "11 of 11")  # type: ignore[arg-type]
        await pilot.press("enter")
        await drawn(pilot, lambda: find_count(view(pilot.app)) == "10 of 11")  # type: ignore[arg-type]

    assert snap_compare(make_app(tmp_path, None), terminal_size=SIZE, run_before=run_before)


def test_search_all_history_lists_the_messages_found(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        await started(pilot)
        closed_tab_with(pilot.app, "the albatross parser is slow")  # type: ignore[arg-type]
        await _freeze(pilot)
        await pilot.press("f6")
        await type_into(pilot, "albatross")
        await drawn(pilot, lambda: len(getattr(pilot.app.screen, "rows", [])) == 1)

    assert snap_compare(make_app(tmp_path, None), terminal_size=SIZE, run_before=run_before)
