"""SVG snapshots of the main screen (pytest-textual-snapshot; `--snapshot-update` to accept).

Demo mode (the bundled mock in-process, pacing off) keeps the screen deterministic: the
simulated BridgeHub answers the same way every time and the header shows no port.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tests.functional.tui.apphelpers import (
    make_app,
    open_tab,
    replies_done,
    started,
    type_and_send,
    view,
)
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
