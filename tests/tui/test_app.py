"""The chat app through Textual's pilot, against the mock backend on an ephemeral port."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from mock_backend import MockBackend
from tests.conftest import BackendFactory, free_port
from tests.tui.apphelpers import (
    blocks,
    make_app,
    open_tab,
    pick_tab,
    replies_done,
    started,
    type_and_send,
    view,
)
from tui.client.state import Phase
from tui.widgets.composer import Composer
from tui.widgets.dialogs import ConfirmClose, RenameTab
from tui.workspace import MAX_TABS

SIZE = (120, 40)


async def test_first_run_chat_streams_markdown_and_remembers(
    backend: MockBackend, tmp_path: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        (tab,) = app.workspace.tabs
        assert tab.provider == "claude" and tab.title == "Claude"
        assert (
            tab.session_id.startswith("DEV-claude-")
            and len(tab.session_id) == len("DEV-claude-") + 36
        )
        assert app.sub_title == backend.url

        await type_and_send(pilot, "Remember the code word QUOKKA-8")
        assert view(app).query_one(Composer).text == "", "the composer is cleared on send"
        await watch.until(pilot, replies_done(app, 1))
        await type_and_send(pilot, "What was the code word?")
        await watch.until(pilot, replies_done(app, 2))

        shown = blocks(app)
        assert [b.message.role for b in shown] == ["user", "assistant", "user", "assistant"]
        assert "QUOKKA-8" in shown[-1].message.text and shown[-1].border_title == "Jarvis"
        assert [s["session_id"] for s in backend.registry.summaries()] == [tab.session_id]
        assert "connected" in str(view(app).query_one("#status").render())


async def test_a_sixth_tab_is_refused_and_the_last_tab_cannot_close(
    backend: MockBackend, tmp_path: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    notices: list[str] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await started(pilot)
        app.notify = lambda message, **kw: notices.append(str(message))  # type: ignore[method-assign]
        await pilot.press("f8")
        assert not isinstance(app.screen, ConfirmClose)
        assert notices[-1] == "The last tab cannot be closed."
        for provider in ("claude", "codex", "claude", "codex"):
            await open_tab(pilot, provider)
        assert app.workspace is not None
        assert [t.provider for t in app.workspace.tabs] == [
            "claude",
            "claude",
            "codex",
            "claude",
            "codex",
        ]
        await pilot.press("ctrl+n")
        assert len(app.workspace.tabs) == MAX_TABS
        assert "5 tabs is the limit" in notices[-1]
        assert len(app.query_one(TabbedContent).query("TabPane")) == MAX_TABS
        ids = {t.session_id for t in app.workspace.tabs}
        assert len(ids) == MAX_TABS, "every tab owns its own session"


async def test_closing_a_tab_asks_then_sends_exactly_one_delete(
    backend: MockBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closes: list[str] = []
    real_close = backend.registry.close
    monkeypatch.setattr(
        backend.registry, "close", lambda sid: closes.append(sid) or real_close(sid)
    )
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        await open_tab(pilot, "codex")
        await type_and_send(pilot, "hello codex")
        await watch.until(pilot, replies_done(app, 1))
        assert app.workspace is not None
        codex = app.workspace.selected
        await pilot.press("f8")
        assert isinstance(app.screen, ConfirmClose)
        await pilot.press("n")
        assert len(app.workspace.tabs) == 2, "kept"
        await pilot.press("f8", "y")
        await watch.until(
            pilot, lambda: len(closes) == 1 and codex.connection.state.phase == Phase.STOPPED
        )
        await pilot.pause()
        assert closes == [codex.session_id]
        assert [t.provider for t in app.workspace.tabs] == ["claude"]
        assert app.workspace.store.recent(codex.session_id, 10), (
            "the closed tab's history stays on disk"
        )
    assert closes == [codex.session_id], "exactly one DELETE"


async def test_tabs_keep_separate_histories_and_background_streams_catch_up(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(chunk_delay=0.005, chunk_size=50)
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        await type_and_send(pilot, "My name is Ty")
        await watch.until(pilot, replies_done(app, 1))
        await open_tab(pilot, "claude")
        await type_and_send(pilot, "/long 4000")
        second = app.workspace.selected
        await watch.until(pilot, lambda: second.live is not None, settle=False)
        # back to the first tab while the second streams (the action, not keys: pilot.press
        # waits for the visible stream's messages to drain)
        await app.action_goto_tab(1)
        hidden = view(app, 1)
        assert not hidden.active and view(app, 0).active
        assert second.live is not None, "precondition: still streaming when hidden"
        rendered_when_hidden = hidden.live_shown
        await watch.until(pilot, replies_done(app, 1, index=1))
        assert hidden.live_shown == rendered_when_hidden, "a hidden tab renders no chunk"
        assert [b.message.role for b in blocks(app, 1)] == ["user"], "nor its finished reply"

        await type_and_send(pilot, "What's my name?")
        await watch.until(pilot, replies_done(app, 2, index=0))
        assert "Ty" in blocks(app, 0)[-1].message.text

        await pilot.press("ctrl+pagedown")
        await pilot.pause()
        shown = blocks(app, 1)
        assert [b.message.role for b in shown] == ["user", "assistant"], "caught up when shown"
        assert shown[-1].message.text == second.messages[-1].text
        assert len(shown[-1].message.text.split()) > 3500
        assert not view(app, 1).query(".live"), "no live widget is left after complete"
        first_texts = " ".join(b.message.text for b in blocks(app, 0))
        assert "Part 1" not in first_texts, "no cross-talk between tabs"


async def test_message_typed_while_down_waits_then_is_delivered(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    port = free_port()
    app = make_app(tmp_path, f"http://127.0.0.1:{port}")
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        await watch.until(pilot, lambda: tab.state.phase == Phase.UNREACHABLE)
        assert "cannot reach" in str(view(app).query_one("#status").render())
        await type_and_send(pilot, "typed while the backend is down")
        (pending,) = blocks(app)
        assert pending.message.status == "pending" and pending.has_class("pending")
        assert pending.border_subtitle.startswith("pending")

        await start_backend(port=port)
        await pilot.press("f5")
        await watch.until(pilot, replies_done(app, 1))
        shown = blocks(app)
        assert shown[0].message.status == "sent" and not shown[0].border_subtitle
        assert "typed while the backend is down" in shown[1].message.text


async def test_wrong_token_says_so(backend: MockBackend, tmp_path: Path) -> None:
    app = make_app(tmp_path, backend.url, token="not-the-token")
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        await watch.until(pilot, lambda: tab.state.phase == Phase.AUTH_FAILED)
        status = str(view(app).query_one("#status").render())
        assert "authentication failed" in status and "token" in status
        assert "⚠" in str(app.query_one(TabbedContent).get_tab(f"tab-{tab.tab_id}").label)


async def test_restart_restores_tabs_histories_drafts_and_selection(
    backend: MockBackend, tmp_path: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        await type_and_send(pilot, "Remember the code word ORBIT-1")
        await watch.until(pilot, replies_done(app, 1))
        await open_tab(pilot, "codex")
        await type_and_send(pilot, "codex here?")
        await watch.until(pilot, replies_done(app, 1))
        await pilot.press("f2")
        assert isinstance(app.screen, RenameTab)
        rename = app.screen.query_one("Input")
        rename.value = "Reviews"  # type: ignore[attr-defined]
        await pilot.press("enter")
        view(app).query_one(Composer).insert("half-written thought")
        await pilot.pause()
        assert app.workspace is not None
        before = [(t.tab_id, t.title, t.session_id, len(t.messages)) for t in app.workspace.tabs]
        label = str(
            app.query_one(TabbedContent).get_tab(f"tab-{app.workspace.selected.tab_id}").label
        )
        assert "Reviews" in label

    again = make_app(tmp_path, backend.url)
    async with again.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert again.workspace is not None
        after = [(t.tab_id, t.title, t.session_id, len(t.messages)) for t in again.workspace.tabs]
        assert after == before
        assert again.workspace.selected.title == "Reviews"
        assert view(again).query_one(Composer).text == "half-written thought"
        assert [b.message.role for b in blocks(again)] == ["user", "assistant"]
        await pick_tab(pilot, 1)
        view(again).query_one(Composer).clear()
        await type_and_send(pilot, "What was the code word?")
        await watch.until(pilot, replies_done(again, 2))
        assert "ORBIT-1" in blocks(again)[-1].message.text, "same session on the backend"


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


async def test_a_reply_that_ends_while_its_widget_mounts_is_shown_whole(
    backend: MockBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.client import connection as conn
    from tui.widgets.streamed_reply import StreamedReply

    app = make_app(tmp_path, backend.url)

    def end_reply_during_mount(self: StreamedReply) -> None:
        # the backend's `complete` arrives while the live widget is being mounted
        assert app.workspace is not None
        app.workspace._on_event(app.workspace.selected, conn.ReplyDone("x", "", 2, None))

    monkeypatch.setattr(StreamedReply, "on_mount", end_reply_during_mount, raising=False)
    async with app.run_test(size=SIZE) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        app.workspace._on_event(tab, conn.ReplyChunk("x", "**quick** reply"))
        await watch.until(pilot, lambda: tab.live is None)
        await pilot.pause()
        assert [b.message.text for b in blocks(app)] == ["**quick** reply"]
        assert not view(app).query(".live")


async def test_showing_a_tab_with_a_long_hidden_reply_keeps_the_live_widget_small(
    backend: MockBackend, tmp_path: Path
) -> None:
    from tui.client import connection as conn

    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert app.workspace is not None
        hidden = await open_tab(pilot, "claude")
        await pick_tab(pilot, 1)
        paragraph = "Words of a long answer, streamed while the tab is hidden. " * 8 + "\n\n"
        for _ in range(120):  # about 60 KB
            app.workspace._on_event(hidden, conn.ReplyChunk("m", paragraph))
        # from outside the app's message loop, as a chunk handler runs beside the app's
        # catch-up: the action and its TabActivated event overlap
        await app.action_goto_tab(2)
        await pilot.pause()
        shown = view(app, 1)
        assert shown.live_shown == len(hidden.live or "")
        blocks_in_live = len(shown.query("StreamedReply MarkdownBlock"))
        assert blocks_in_live < 20, f"the live widget holds {blocks_in_live} blocks"
