"""Every session within reach, in the app: find in a tab (ctrl+f) down to messages not loaded
yet, search all history (F6) and open a result at its message, the session browser (F4)
with the backend's sessions from other devices, export from the palette."""

from __future__ import annotations

import stat
from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from mock_backend import MockBackend
from tests.functional.tui.apphelpers import (
    drawn,
    make_app,
    started,
    type_into,
    view,
    with_history,
)
from tests.functional.tui.test_open_session import OTHER, made_on_another_device
from tui.app import ChatApp
from tui.model.export import from_json
from tui.store import StoredMessage, TabRow
from tui.widgets.chat_view import ChatView
from tui.widgets.find_bar import FindBar
from tui.widgets.history_dialogs import ExportTo, SearchHistory, SessionBrowser

SIZE = (100, 30)


def find_count(chat: ChatView) -> str:
    return str(chat.query_one("#find-count").render()).strip()


def on_screen(chat: ChatView, msg_id: str) -> bool:
    log = chat.log
    entries = (log.entry_at(y) for y in range(log.scrollable_content_region.height))
    return any(e is not None and e.message and e.message.msg_id == msg_id for e in entries)


async def test_ctrl_f_steps_through_every_match_down_to_messages_not_loaded(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        tab = await with_history(app, 300, earlier=200)
        chat = view(app)
        await pilot.press("ctrl+f")
        bar = chat.query_one(FindBar)
        await drawn(pilot, lambda: bar.display and bar.input.has_focus)
        await type_into(pilot, "message 17")
        # 17 and 170–179: the newest match is older than the 100 messages loaded
        await drawn(pilot, lambda: find_count(chat) == "11 of 11")
        assert tab.messages[0].msg_id == "old179", "loaded down to the match, no further"
        assert tab.earlier == 179
        await drawn(pilot, lambda: on_screen(chat, "old179"))
        assert "179 earlier messages" in str(chat.query_one("#earlier").render())
        line = next(
            chat.log.render_line(y)
            for y in range(chat.log.size.height)
            if "earlier message 179" in chat.log.render_line(y).text
        )
        marked = [s for s in line if s.text == "message 17"]
        assert marked and marked[0].style and marked[0].style.bold, "the current match stands out"
        for _ in range(10):
            await pilot.press("enter")  # older, back to the first of all
        await drawn(pilot, lambda: find_count(chat) == "1 of 11")
        await drawn(pilot, lambda: on_screen(chat, "old17"))
        assert tab.messages[0].msg_id == "old17" and tab.earlier == 17
        await pilot.press("down")  # newer
        await drawn(pilot, lambda: find_count(chat) == "2 of 11" and on_screen(chat, "old170"))
        await pilot.press("escape")
        await drawn(pilot, lambda: not bar.display and chat.composer.has_focus)
        assert not chat.log.marking
        assert app.workspace is not None and tab.live is None, "Escape stopped no reply"


async def test_a_text_found_nowhere_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await with_history(app, 10)
        chat = view(app)
        await pilot.press("ctrl+f")
        await type_into(pilot, "owl")
        await drawn(pilot, lambda: find_count(chat) == "no match")
        await pilot.press("enter")  # nothing to step to: nothing breaks
        assert find_count(chat) == "no match"


def closed_tab_with(app: ChatApp, text: str) -> None:
    """A tab closed before this run, whose history holds `text` among other messages."""
    store = app.setup.store
    store.add_tab(
        TabRow("gone", 1, "codex", "Old parser work", "DEV-codex-gone", ""), "2026", "demo"
    )
    for n in range(150):
        words = text if n == 20 else f"filler {n}"
        store.save("DEV-codex-gone", StoredMessage(f"g{n}", "user", words, "acknowledged", "2026"))
    store.close_tab("gone", "2026")


async def test_search_all_history_opens_a_closed_tab_at_the_message(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        closed_tab_with(app, "the albatross parser is slow")
        await pilot.press("f6")
        await drawn(pilot, lambda: isinstance(app.screen, SearchHistory))
        dialog = app.screen
        assert isinstance(dialog, SearchHistory)
        await type_into(pilot, "albatross pars")
        await drawn(pilot, lambda: [hit.msg_id for hit in dialog.rows] == ["g20"])
        assert "Old parser work (closed)" in str(dialog.options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        assert app.workspace is not None
        workspace = app.workspace
        await drawn(pilot, lambda: workspace.selected.session_id == "DEV-codex-gone")
        tab = workspace.selected
        assert tab.title == "Old parser work" and len(workspace.tabs) == 2
        chat = view(app)
        await drawn(pilot, lambda: on_screen(chat, "g20"))
        assert tab.messages[0].msg_id == "g20", "the history was loaded down to it"
        assert chat.query_one(FindBar).input.value == "albatross pars"


async def test_the_session_browser_shows_other_devices_and_opens_one(
    backend: MockBackend, tmp_path: Path
) -> None:
    await made_on_another_device(backend)
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        await pilot.press("f4")
        await drawn(pilot, lambda: isinstance(app.screen, SessionBrowser))
        browser = app.screen
        assert isinstance(browser, SessionBrowser)
        await drawn(pilot, lambda: any(row.session_id == OTHER for row in browser.rows))
        other = next(row for row in browser.rows if row.session_id == OTHER)
        assert other.other_device and other.messages == 2 and other.on_backend
        assert "1 from other devices" in str(browser.query_one("#note").render())
        await type_into(pilot, "device other")
        await drawn(pilot, lambda: [row.session_id for row in browser.rows] == [OTHER])
        await pilot.press("enter")
        assert app.workspace is not None
        workspace = app.workspace
        await watch.until(lambda: workspace.selected.session_id == OTHER)
        assert [m.msg_id for m in workspace.selected.messages] == ["x1", "x1:reply"]
        await pilot.press("f4")  # it is open here now, and says so
        await drawn(pilot, lambda: isinstance(app.screen, SessionBrowser))
        again = app.screen
        assert isinstance(again, SessionBrowser)
        await drawn(pilot, lambda: any(r.session_id == OTHER and r.open_here for r in again.rows))


def first_command(app: ChatApp) -> str:
    """The command the palette would run on Enter."""
    if not isinstance(app.screen, CommandPalette):
        return ""
    commands = app.screen.query_one(CommandList)
    return str(commands.get_option_at_index(0).prompt) if commands.option_count else ""


async def test_export_from_the_palette_writes_a_private_file_that_reads_back(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, None)
    target = tmp_path / "out" / "chat.json"
    target.parent.mkdir()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        tab = await with_history(app, 12)
        await pilot.press("ctrl+p")
        await type_into(pilot, "export json")
        await drawn(
            pilot, lambda: first_command(app).startswith("Export this conversation as JSON")
        )
        await pilot.press("enter")
        await drawn(pilot, lambda: isinstance(app.screen, ExportTo))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await drawn(pilot, lambda: any(str(target) in notice for notice in app.notices))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    conversation = from_json(target.read_text())
    assert conversation.session_id == tab.session_id
    assert [m.text for m in conversation.messages] == [f"earlier message {n}" for n in range(12)]
