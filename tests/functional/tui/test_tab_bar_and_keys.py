"""What the tab bar and the key line tell a daily user: numbered tabs that name their provider
after a rename, a reply being written in the background (⋯) and then unread (•) with the bell
or a desktop notification, message times on F9, and the keys that fit at 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_backend import MockBackend
from tests.conftest import BackendFactory
from tests.functional.tui.apphelpers import (
    drawn,
    make_app,
    open_tab,
    pick_tab,
    started,
    type_and_send,
    view,
)
from tui.app import TIMES_SETTING, ChatApp
from tui.client.state import ConnectionState, Phase
from tui.model.workspace import ChatTab
from tui.system import alerts
from tui.widgets.attach_dialog import AttachFile
from tui.widgets.key_bar import KeyBar, KeyHint, fitting
from tui.widgets.tab_bar import TabBar, tab_label


def label(app: ChatApp, number: int) -> str:
    assert app.workspace is not None
    return app.query_one(TabBar).label_of(app.workspace.tabs[number - 1].tab_id)


def test_a_label_says_number_state_title_provider_and_activity() -> None:
    tab = ChatTab("t", "codex", "Codex", "s", state=ConnectionState(Phase.CONNECTED))
    assert tab_label(2, tab) == "2 ● Codex"
    tab.title = "Reviews"
    assert tab_label(2, tab) == "2 ● Reviews · Codex", "a rename keeps the provider in sight"
    tab.reply.parts = ["half a reply"]
    assert tab_label(2, tab) == "2 ● Reviews · Codex ⋯"
    tab.reply.parts, tab.unread = None, True
    assert tab_label(2, tab) == "2 ● Reviews · Codex •"


async def test_a_background_reply_shows_it_streams_then_unread_and_rings(
    start_backend: BackendFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend: MockBackend = await start_backend(chunk_delay=0.02)
    app = make_app(tmp_path, backend.url)
    rings: list[None] = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(None))
    async with app.run_test(size=(120, 30)) as pilot:
        watch = await started(pilot)
        codex = await open_tab(pilot, "codex")
        await watch.until(lambda: codex.state.phase is Phase.CONNECTED)
        await type_and_send(pilot, "/long 3000")
        await watch.until(lambda: codex.live is not None)
        await pick_tab(pilot, 1)
        await drawn(pilot, lambda: label(app, 2).endswith("⋯"))
        assert rings == []
        await watch.until(lambda: codex.live is None and codex.unread)
        await drawn(pilot, lambda: label(app, 2) == "2 ● Codex •")
        assert rings == [None], "one ring for one reply"
        assert app.query_one(TabBar).query_one(f"#label-{codex.tab_id}").has_class("-unread")
        await pick_tab(pilot, 2)
        await drawn(pilot, lambda: label(app, 2) == "2 ● Codex")
        assert not codex.unread


async def test_a_desktop_alert_names_the_tab_and_the_reply(
    backend: MockBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(alerts, "notify_desktop", lambda t, b: shown.append((t, b)))
    app = make_app(tmp_path, backend.url)
    monkeypatch.setattr(app, "bell", lambda: pytest.fail("the bell rang with alerts on desktop"))
    async with app.run_test(size=(120, 30)) as pilot:
        watch = await started(pilot)
        await app.run_action("reply_alert('desktop')")
        assert app.setup.store.setting(alerts.SETTING) == "desktop"
        codex = await open_tab(pilot, "codex")
        await watch.until(lambda: codex.state.phase is Phase.CONNECTED)
        assert app.workspace is not None
        app.workspace.send(codex.tab_id, "Remember the code word jade-4")
        app.workspace.select(app.workspace.tabs[0].tab_id)  # looking elsewhere as it ends
        await watch.until(lambda: codex.unread)
        assert len(shown) == 1 and shown[0][0] == "Codex: reply ended"
        assert "remember that" in shown[0][1]


async def test_renaming_and_closing_keep_numbers_and_providers_true(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=(120, 30)) as pilot:
        await started(pilot)
        await open_tab(pilot, "codex")
        await pilot.press("f2")
        await drawn(pilot, lambda: app.screen.query("Input").first().has_focus)
        app.screen.query_one("Input").value = "Reviews"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await drawn(pilot, lambda: label(app, 2).endswith("Reviews · Codex"))
        await pick_tab(pilot, 1)
        await pilot.press("f8")
        await pilot.press("y")
        assert app.workspace is not None
        await drawn(pilot, lambda: len(app.workspace.tabs) == 1)  # type: ignore[union-attr]
        await drawn(pilot, lambda: label(app, 1).startswith("1 ") and "Reviews" in label(app, 1))


async def test_f9_shows_each_messages_time_and_it_is_kept(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        watch = await started(pilot)
        await type_and_send(pilot, "What time is it?")
        await watch.until(
            lambda: app.workspace is not None and len(app.workspace.selected.messages) == 2
        )
        log = view(app).log

        def screen() -> str:
            return "\n".join(log.render_line(y).text for y in range(log.size.height))

        assert "╭─ You ─" in screen()
        await pilot.press("f9")
        await drawn(pilot, lambda: "╭─ You · " in screen())
        assert app.setup.store.setting(TIMES_SETTING) == "on"
    again = make_app(tmp_path, None)
    async with again.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        assert view(again).log.times


def test_the_key_line_keeps_the_best_keys_that_fit() -> None:
    hints = [
        KeyHint("f1", "Help", "help"),
        KeyHint("^p", "Palette", "p"),
        KeyHint("f2", "A long one", "x"),
        KeyHint("^q", "Quit", "quit"),
    ]
    assert [h.key for h in fitting(hints, 80)] == ["f1", "^p", "f2", "^q"]
    assert [h.key for h in fitting(hints, 28)] == ["f1", "^p", "^q"], "a shorter key further on"
    assert fitting(hints, 3) == []


async def test_at_80_columns_help_palette_and_attach_stay_and_a_click_runs_one(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        bar = app.query_one(KeyBar)
        shown = [hint.key for hint in bar.shown]
        assert shown[:3] == ["f1", "^p", "^t"] and "^r" in shown
        start = str(bar.render()).index("^t Attach")
        await pilot.click(KeyBar, offset=(start + 2, 0))
        await drawn(pilot, lambda: isinstance(app.screen, AttachFile))
