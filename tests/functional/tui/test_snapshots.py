"""SVG snapshots of the main screen (pytest-textual-snapshot; `--snapshot-update` to accept).

Demo mode (the bundled mock in-process, pacing off) keeps the screen deterministic: the
simulated BridgeHub answers the same way every time and the header shows no port.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot

import tui.app
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
from tui.client.frames import Provider
from tui.client.state import ConnectionState, Phase
from tui.model.reply import ReplyInFlight
from tui.model.workspace import ChatTab
from tui.widgets.composer import Composer
from tui.widgets.help import HelpScreen
from tui.widgets.tab_bar import TabBar, tab_label

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


class HelpHost(App[None]):
    """The help screen over an empty app, with a fixed data dir and backend (the real ones
    differ on every run)."""

    def on_mount(self) -> None:
        self.push_screen(HelpScreen("/home/you/.local/share/builderos", "http://mac.local:8080"))


def test_help_lists_the_keys_by_group(snap_compare) -> None:
    assert snap_compare(HelpHost(), terminal_size=SIZE)


class TabBarHost(App[None]):
    """The tab bar in each state a tab can show: selected, a rename with its provider, a reply
    being written, unread, reconnecting, a refused token."""

    CSS_PATH = str(Path(tui.app.__file__).parent / "app.tcss")

    def compose(self) -> ComposeResult:
        yield TabBar(id="tab-bar")

    async def on_mount(self) -> None:
        def tab(title: str, provider: Provider, phase: Phase, **state: Any) -> ChatTab:
            made = ChatTab(f"t{phase}{title}", provider, title, "s", state=ConnectionState(phase))
            for name, value in state.items():
                setattr(made, name, value)
            return made

        tabs = [
            tab("Claude", "claude", Phase.CONNECTED),
            tab("Reviews", "codex", Phase.CONNECTED, reply=ReplyInFlight(parts=["writing"])),
            tab("Codex", "codex", Phase.CONNECTED, unread=True),
            tab("Notes", "claude", Phase.RECONNECTING),
            tab("Claude", "claude", Phase.AUTH_FAILED),
        ]
        bar = self.query_one(TabBar)
        for number, each in enumerate(tabs, start=1):
            await bar.add(each.tab_id, tab_label(number, each))
            bar.relabel(each.tab_id, tab_label(number, each), each.unread)
        bar.show_selected(tabs[0].tab_id)


def test_the_tab_bar_in_every_state(snap_compare) -> None:
    assert snap_compare(TabBarHost(), terminal_size=(120, 4))


def test_80_by_24_keeps_the_chat_the_chips_and_the_best_keys(snap_compare, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping list\nmilk\n", encoding="utf-8")

    async def run_before(pilot: Pilot) -> None:
        watch = await started(pilot)
        app = pilot.app
        await type_and_send(pilot, "Hello there")
        await watch.until(replies_done(app, 1))  # type: ignore[arg-type]
        chat = view(app)  # type: ignore[arg-type]
        chat.tray.add(notes)
        await chat.tray.settled()
        await drawn(pilot, lambda: len(chat.query("Chip")) == 1)
        await _freeze(pilot)

    assert snap_compare(make_app(tmp_path, None), terminal_size=(80, 24), run_before=run_before)
