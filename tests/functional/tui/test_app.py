"""The chat app through Textual's pilot, for what no checklist scenario covers.

End-to-end user flows (first chat, context, tabs, restart, typed while down, close) are the
checklist scenarios in `harness/checklist.py`, run by `builderos check` and by
tests/functional/harness. These tests pin the app's own rules and past bugs.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual import events
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from harness.driver import WAIT, shown
from mock_backend import MockBackend
from tests.conftest import BackendFactory
from tests.functional.tui.apphelpers import (
    blocks,
    drawn,
    make_app,
    open_tab,
    pick_tab,
    replies_done,
    started,
    type_and_send,
    view,
    with_history,
)
from tui.app import ChatApp
from tui.client import protocol as wire
from tui.client.state import Phase
from tui.store import ChatStore
from tui.widgets.conversation import LIVE_LIMIT
from tui.widgets.dialogs import ConfirmClose
from tui.widgets.help import HelpScreen, keys_table
from tui.widgets.tab_bar import TabBar, label_id

SIZE = (120, 40)


def selected_on_screen(app: object) -> tuple[str | None, str | None, list[str]]:
    """What the screen says is selected: the switcher's pane, the bar's mark, active views."""
    from textual.widgets import ContentSwitcher

    assert isinstance(app, ChatApp) and app.workspace is not None
    marked = [label.id for label in app.query(".tab-label.-selected")]
    active = [v.tab.tab_id for v in app.query("ChatView") if v.active]  # type: ignore[attr-defined]
    current = app.query_one(ContentSwitcher).current
    return current, marked[0] if len(marked) == 1 else None, active


def assert_screen_follows(app: object) -> None:

    assert isinstance(app, ChatApp) and app.workspace is not None
    tab_id = app.workspace.selected.tab_id
    assert selected_on_screen(app) == (f"tab-{tab_id}", label_id(tab_id), [tab_id])


async def test_enter_after_a_burst_of_keys_sends_every_character(
    backend: MockBackend, tmp_path: Path
) -> None:
    """Keys posted at once, as the terminal driver does for a paste or a fast link: Enter must
    be seen after the characters before it (a priority binding ran ahead of them and sent
    "Show" or nothing)."""
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        text = "Show me a python function"
        for char in text:
            app.post_message(events.Key("space" if char == " " else char, char))
        app.post_message(events.Key("enter", "\r"))
        await watch.until(lambda: any(m.role == "user" for m in tab.messages))
        assert [m.text for m in tab.messages if m.role == "user"] == [text]
        assert view(app).composer.text == ""


async def test_the_last_tab_cannot_close(backend: MockBackend, tmp_path: Path) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("f8")
        assert not isinstance(app.screen, ConfirmClose)
        assert app.notices[-1] == "The last tab cannot be closed."


async def test_closing_a_tab_asks_then_sends_exactly_one_delete(
    backend: MockBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closes: list[str] = []
    real_close = backend.registry.close

    def counted_close(session_id: str) -> tuple[bool, bool]:
        closes.append(session_id)
        return real_close(session_id)

    monkeypatch.setattr(backend.registry, "close", counted_close)
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        await open_tab(pilot, "codex")
        await type_and_send(pilot, "hello codex")
        await watch.until(replies_done(app, 1))
        assert app.workspace is not None
        codex = app.workspace.selected
        assert codex.provider == "codex"
        await pilot.press("f8")
        assert isinstance(app.screen, ConfirmClose)
        await pilot.press("n")
        assert len(app.workspace.tabs) == 2, "kept"
        await pilot.press("f8", "y")
        connection = codex.connection
        assert connection is not None
        await watch.until(lambda: len(closes) == 1 and connection.state.phase == Phase.STOPPED)
        assert closes == [codex.session_id]
        assert [t.provider for t in app.workspace.tabs] == ["claude"]
        assert_screen_follows(app)
        assert app.workspace.store.recent(codex.session_id, 10), "history stays on disk"
    assert closes == [codex.session_id], "exactly one DELETE"


async def test_focus_moving_into_another_tab_never_changes_the_selection(
    backend: MockBackend, tmp_path: Path
) -> None:
    """The bug behind a flaky close test: focusing anything inside a pane made Textual's
    TabbedContent activate that pane, and the app copied it into the workspace, so a late focus
    event undid a switch (and F8 closed the wrong tab)."""
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        second = await open_tab(pilot, "codex")
        assert app.workspace is not None
        view(app, 0).composer.focus()  # a focus move into the hidden first tab
        await pilot.pause()
        await app.settled()
        assert app.workspace.selected is second
        assert_screen_follows(app)


async def test_switching_many_times_quickly_ends_where_the_keys_say(
    backend: MockBackend, tmp_path: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        for provider in ("codex", "claude", "codex"):
            await open_tab(pilot, provider)
        assert app.workspace is not None
        tabs = app.workspace.tabs
        await pilot.press(*["ctrl+pagedown"] * 7, "ctrl+pageup")  # from 4: +7 -1 → 2
        await app.settled()
        assert app.workspace.selected is tabs[1]
        assert_screen_follows(app)


async def test_clicking_a_tab_selects_it(backend: MockBackend, tmp_path: Path) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await open_tab(pilot, "codex")
        assert app.workspace is not None
        first = app.workspace.tabs[0]
        await pilot.click(f"#{label_id(first.tab_id)}")
        await shown(app, first)
        assert_screen_follows(app)
        assert "Claude" in app.query_one(TabBar).label_of(first.tab_id)


async def test_tabs_keep_separate_histories_and_background_streams_catch_up(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(chunk_delay=0.005, chunk_size=50)
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        await type_and_send(pilot, "My name is Ty")
        await watch.until(replies_done(app, 1))
        await open_tab(pilot, "claude")
        await type_and_send(pilot, "/long 4000")
        second = app.workspace.selected
        await watch.until(lambda: second.live is not None, settle=False)
        # back to the first tab while the second streams (the action, not keys: pilot.press
        # waits for the visible stream's messages to drain)
        app.action_goto_tab(1)
        await shown(app, app.workspace.tabs[0])
        hidden = view(app, 1)
        assert not hidden.active and view(app, 0).active
        assert second.live is not None, "precondition: still streaming when hidden"
        rendered_when_hidden = hidden.live_shown
        await watch.until(replies_done(app, 1, index=1))
        assert hidden.live_shown == rendered_when_hidden, "a hidden tab renders no chunk"
        assert [b.message.role for b in blocks(app, 1) if b.message] == ["user"], (
            "nor its finished reply"
        )

        await type_and_send(pilot, "What's my name?")
        await watch.until(replies_done(app, 2, index=0))
        last = blocks(app, 0)[-1].message
        assert last is not None and "Ty" in last.text

        await pilot.press("ctrl+pagedown")
        await shown(app, second)
        finished = [b.message for b in blocks(app, 1) if b.message]
        assert [m.role for m in finished] == ["user", "assistant"], "caught up when shown"
        assert finished[-1].text == second.messages[-1].text
        assert len(finished[-1].text.split()) > 3500
        assert view(app, 1).log.live is None, "no live reply is left after complete"
        first_texts = " ".join(b.message.text for b in blocks(app, 0) if b.message)
        assert "Part 1" not in first_texts, "no cross-talk between tabs"


async def test_wrong_token_says_so(backend: MockBackend, tmp_path: Path) -> None:
    app = make_app(tmp_path, backend.url, token="not-the-token")
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        await watch.until(lambda: tab.state.phase == Phase.AUTH_FAILED)
        status = str(view(app).query_one("#status").render())
        assert "token refused" in status and "BUILDEROS_TOKEN" in status
        assert "⚠" in app.query_one(TabBar).label_of(tab.tab_id)


async def test_command_palette_lists_every_action(backend: MockBackend, tmp_path: Path) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for title in (
            "New Claude tab",
            "New Codex tab",
            "Close tab (asks first)",
            "Next tab",
            "Previous tab",
            "Go to tab 1–5 (then press its number)",
            "Rename tab",
            "Reconnect now",
            "Copy the last reply",
            "Load earlier messages",
        ):
            assert title in titles
        for binding in app.BINDINGS:
            assert binding.description, f"{binding.key} has a footer description"  # type: ignore[union-attr]


async def test_a_reply_that_ends_before_it_is_painted_is_shown_whole(
    backend: MockBackend, tmp_path: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        app.workspace.handle(tab.tab_id, wire.ReplyChunk("x", "**quick** "))
        app.workspace.handle(tab.tab_id, wire.ReplyChunk("x", "reply"))
        app.workspace.handle(tab.tab_id, wire.ReplyDone("x", "", 2, 2, None))
        await watch.until(lambda: tab.live is None)
        assert [b.message.text for b in blocks(app) if b.message] == ["**quick** reply"]
        assert view(app).log.live is None


async def test_showing_a_tab_with_a_long_hidden_reply_paints_it_at_once_and_cheaply(
    backend: MockBackend, tmp_path: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert app.workspace is not None
        hidden = await open_tab(pilot, "claude")
        await pick_tab(pilot, 1)
        paragraph = "Words of a long answer, streamed while the tab is hidden. " * 8 + "\n\n"
        for _ in range(120):  # about 60 KB
            app.workspace.handle(hidden.tab_id, wire.ReplyChunk("m", paragraph))
        app.action_goto_tab(2)
        await shown(app, hidden)
        shown_view = view(app, 1)
        assert shown_view.live_shown == len(hidden.live or "")
        live = shown_view.log.live
        assert live is not None and len(live.tail) <= LIVE_LIMIT, "only the tail re-renders"


@pytest.mark.parametrize("after_chars", [1, 2500, 6000])
async def test_quitting_while_a_reply_streams_is_clean(
    start_backend: BackendFactory, tmp_path: Path, after_chars: int
) -> None:
    """Quitting mid-reply (the reply is cut and saved while the screen is torn down) raised
    MountError or NoMatches from widgets being removed, 1 run in 10 under load."""
    backend = await start_backend(chunk_delay=0.001, chunk_size=50)
    app = make_app(tmp_path, backend.url)
    async with app.run_test() as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        streamed = watch.armed(lambda: len(tab.live or "") >= after_chars)
        await type_and_send(pilot, "/long 3000")
        await streamed(WAIT, False)
    saved = ChatStore(tmp_path / "history.db").recent(tab.session_id, 5)
    assert saved[-1].role == "assistant" and saved[-1].status in ("interrupted", "complete")


async def test_f3_keeps_the_lines_in_view_where_they_were(tmp_path: Path) -> None:
    """Loading earlier messages above used to move the view from message 44 to 39."""
    store = ChatStore(tmp_path / "history.db")
    store.close()
    app = make_app(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        tab = await with_history(app, 250, earlier=150)
        log = view(app).log
        log.scroll_y = 40
        await pilot.pause()
        top = log.entry_at(0)
        assert top is not None and not log.follow
        await pilot.press("f3")
        await app.settled()
        await pilot.pause()
        assert len(tab.messages) == 200
        assert log.entry_at(0) is top, "the same message is at the top of the view"


async def test_sending_while_scrolled_up_shows_the_message_and_its_reply(
    backend: MockBackend, tmp_path: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        await with_history(app, 60)
        log = view(app).log
        log.scroll_y = 0
        await pilot.pause()
        assert not log.follow
        await type_and_send(pilot, "where am I?")
        await watch.until(replies_done(app, 31))
        await pilot.pause()
        assert log.follow and log.scroll_offset.y == log.max_scroll_y


async def test_a_key_typed_right_after_a_dialog_key_reaches_the_dialog(tmp_path: Path) -> None:
    """ctrl+g then 1 in one burst (as a terminal delivers a fast typist's keys) lost the 1: the
    dialog opened only once the composer had passed ctrl+g up, after the 1 had gone by."""
    app = make_app(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        await open_tab(pilot, "claude")
        first = app.workspace.tabs[0]
        app.post_message(events.Key("ctrl+g", None))
        app.post_message(events.Key("1", "1"))
        await watch.until(lambda: app.workspace is not None and app.workspace.selected is first)
        assert not isinstance(app.screen, ModalScreen), "the dialog took the 1 and closed"
        assert view(app).composer.text == "", "the 1 was not typed into the composer"
        app.post_message(events.Key("f8", None))
        app.post_message(events.Key("y", "y"))
        await watch.until(lambda: app.workspace is not None and len(app.workspace.tabs) == 1)
        assert view(app).composer.text == ""


async def test_page_keys_scroll_and_end_returns_to_the_newest(tmp_path: Path) -> None:
    """PageUp scrolls the conversation while the composer keeps the focus; while scrolled up
    and a reply streams, the status line says new text is below; End (composer empty)
    returns and follows again."""
    app = make_app(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        tab = await with_history(app, 60)
        log = view(app).log
        assert log.follow
        await pilot.press("pageup")
        await pilot.pause()
        assert not log.follow and log.scroll_y < log.max_scroll_y
        app.workspace.handle(tab.tab_id, wire.ReplyChunk("m", "Streaming words. " * 40))
        await app.settled()
        await pilot.pause()
        status = str(view(app).query_one("#status", Static).render())
        assert "new text below" in status
        await pilot.press("end")
        await pilot.pause()
        assert log.follow and log.scroll_y == log.max_scroll_y
        assert "new text below" not in str(view(app).query_one("#status", Static).render())
        assert view(app).composer.text == ""


async def test_the_theme_picked_is_kept_across_restarts(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        app.theme = "nord"
        await pilot.pause()  # the theme's signal is published on the next message
    again = make_app(tmp_path, None)
    async with again.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert again.theme == "nord"


async def test_f1_shows_every_key_the_data_dir_and_the_backend(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 60)) as pilot:
        await started(pilot)
        await pilot.press("f1")
        await drawn(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        console = Console(width=200, file=io.StringIO(), record=True)
        console.print(keys_table())
        shown = console.export_text()
        for binding in ChatApp.BINDINGS:
            assert isinstance(binding, Binding)
            assert (binding.tooltip or binding.description) in shown, binding.action
        assert "recall" in shown
        assert help_screen.data_dir == str(tmp_path) and "demo" in help_screen.backend
        await pilot.press("escape")
        await drawn(pilot, lambda: not isinstance(app.screen, HelpScreen))
