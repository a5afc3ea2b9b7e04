"""The BuilderOS Terminal chat app: tabs of Claude and Codex chats, as on the phone.

Thin by design: it draws the workspace's state and dispatches the user's intent to it.
"""

from __future__ import annotations

import contextlib
import gc
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from mock_backend import MockBackend, MockConfig, StartError
from tui.client.backoff import Backoff
from tui.client.frames import Provider
from tui.clipboard import copy_text
from tui.store import ChatStore, StoreError
from tui.widgets.chat_view import ChatView, TabChanged
from tui.widgets.dialogs import ConfirmClose, PickTab, RenameTab
from tui.widgets.message_block import MessageBlock
from tui.workspace import (
    Change,
    ChatTab,
    LastTab,
    LiveChunk,
    TabLimitReached,
    TabNotice,
    TabStateChanged,
    Workspace,
)

DEMO_SUBTITLE = "demo — bundled mock backend"


@dataclass
class ChatSetup:
    """Everything the app needs, resolved before it starts (see tui.cli)."""

    store: ChatStore
    device_id: str
    url: str | None
    """None: demo mode, start the bundled mock backend in-process."""
    token: str | None
    demo_db: Path | None = None
    backoff: Callable[[], Backoff] = Backoff
    demo_chunk_delay: float = 0.02
    freeze_startup_objects: bool = False
    """Move what startup allocated out of the garbage collector's sight (gc.freeze). Python's
    full collections scan every live object, and the app's own widgets and styles made pauses of
    up to 180 ms while a reply streamed. Only for a process that runs one app (the CLI, the
    benchmarks): frozen objects are never collected, so a test run of many apps would keep all."""


def pane_id(tab: ChatTab) -> str:
    return f"tab-{tab.tab_id}"


class ChatApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "BuilderOS Terminal"
    BINDINGS = [
        Binding(
            "ctrl+q", "quit", "Quit", priority=True, tooltip="Quit (tabs, drafts, history kept)"
        ),
        Binding("ctrl+n", "new_tab('claude')", "+Claude", tooltip="New Claude tab"),
        Binding("ctrl+o", "new_tab('codex')", "+Codex", tooltip="New Codex tab"),
        Binding("f8", "close_tab", "Close", tooltip="Close tab (asks first)"),
        Binding("ctrl+pagedown,alt+right", "next_tab", "Next", tooltip="Next tab"),
        Binding("ctrl+pageup,alt+left", "previous_tab", "Prev", tooltip="Previous tab"),
        Binding("ctrl+g", "pick_tab", "Go to tab", tooltip="Go to tab 1–5 (then press its number)"),
        Binding("f2", "rename_tab", "Rename", tooltip="Rename tab"),
        Binding("f5", "reconnect", "Reconnect", tooltip="Reconnect now"),
        Binding("ctrl+l", "copy_last", "Copy", tooltip="Copy the last reply"),
        Binding("f3", "load_earlier", "Earlier", tooltip="Load earlier messages"),
    ]

    def __init__(self, setup: ChatSetup) -> None:
        super().__init__()
        self.setup = setup
        self.workspace: Workspace | None = None
        self.backend: MockBackend | None = None
        self._views: dict[str, ChatView] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield TabbedContent(id="tabs")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p still opens it

    async def on_mount(self) -> None:
        setup = self.setup
        url, token = setup.url, setup.token
        if url is None:
            url, token = await self._start_demo_backend()
            if url is None:
                return
        self.sub_title = DEMO_SUBTITLE if setup.url is None else url
        workspace = Workspace(
            setup.store,
            base_url=url,
            token=token or "",
            device_id=setup.device_id,
            on_change=self._on_change,
            backoff=setup.backoff,
        )
        try:
            workspace.restore()
        except StoreError as exc:
            self.exit(message=f"error: {exc}")
            return
        self.workspace = workspace
        tabbed = self.query_one(TabbedContent)
        for tab in workspace.tabs:
            await tabbed.add_pane(self._pane(tab))
        tabbed.active = pane_id(workspace.selected)
        await self._activate(workspace.selected)
        workspace.start()
        self.set_interval(1.0, self._tick)
        if setup.freeze_startup_objects:
            gc.freeze()

    async def _start_demo_backend(self) -> tuple[str | None, str | None]:
        db = self.setup.demo_db or self.setup.store.path.parent / "demo-backend" / "sessions.db"
        token = secrets.token_urlsafe(16)
        backend = MockBackend(
            MockConfig(port=0, token=token, db_path=db, chunk_delay=self.setup.demo_chunk_delay)
        )
        try:
            await backend.start()
        except StartError as exc:
            self.exit(message=f"error: the bundled mock backend did not start: {exc}")
            return None, None
        self.backend = backend
        return backend.url, token

    async def on_unmount(self) -> None:
        if self.workspace is not None:
            await self.workspace.stop()
        if self.backend is not None:
            await self.backend.stop()
        self.setup.store.close()

    # the workspace talks -------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        if isinstance(change, TabNotice):
            self.notify(change.text, severity=change.severity, timeout=8)  # type: ignore[arg-type]
            return
        view = self.view(change.tab_id)
        if view is None:
            return
        if isinstance(change, LiveChunk):
            # the view draws the whole reply so far, so one pending update covers any burst
            if view.chunk_pending:
                return
            view.chunk_pending = True
        view.post_message(TabChanged(change))
        if isinstance(change, TabStateChanged):
            self._relabel(view.tab)

    def view(self, tab_id: str | None) -> ChatView | None:
        """The tab's view (a dict, not a DOM query: this runs for every chunk)."""
        view = self._views.get(tab_id or "")
        return view if view is not None and view.is_attached else None

    def _pane(self, tab: ChatTab) -> TabPane:
        assert self.workspace is not None
        view = ChatView(self.workspace, tab, id=f"view-{tab.tab_id}")
        self._views[tab.tab_id] = view
        return TabPane(self._label(tab), view, id=pane_id(tab))

    def _label(self, tab: ChatTab) -> str:
        return f"{tab.state.icon} {tab.title}"

    def _relabel(self, tab: ChatTab) -> None:
        with contextlib.suppress(Exception):  # the tab may be being removed
            self.query_one(TabbedContent).get_tab(pane_id(tab)).label = self._label(tab)

    def _tick(self) -> None:
        """Once a second: the visible tab's countdown."""
        if self.workspace is not None and (view := self.view(self.workspace.selected_id)):
            view.update_status()

    async def _activate(self, tab: ChatTab) -> None:
        """Show `tab`: it catches up with what it buffered while hidden. Idempotent."""
        assert self.workspace is not None
        if self.workspace.selected_id != tab.tab_id:
            self.workspace.select(tab.tab_id)
        for view in self.query(ChatView):
            view.active = view.tab is tab
        view = self.view(tab.tab_id)
        if view is not None:
            await view.sync()
            if not view.composer.has_focus:
                view.composer.focus()

    @on(TabbedContent.TabActivated)
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        tabbed = self.query_one(TabbedContent)
        if self.workspace is None or event.pane.id != tabbed.active:
            return  # stale: another tab was activated since (reacting would ping-pong focus)
        tab = self.workspace.tab((event.pane.id or "").removeprefix("tab-"))
        if tab is not None:
            await self._activate(tab)

    # the user acts -------------------------------------------------------------------------

    @on(MessageBlock.CopyRequested)
    def _copy_message(self, event: MessageBlock.CopyRequested) -> None:
        self._copy(event.text)

    async def action_new_tab(self, provider: Provider) -> None:
        if self.workspace is None:
            return
        try:
            tab = self.workspace.add_tab(provider)
        except TabLimitReached as exc:
            self.notify(str(exc), title="Tab limit", severity="warning")
            return
        except StoreError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        tabbed = self.query_one(TabbedContent)
        await tabbed.add_pane(self._pane(tab))
        tabbed.active = pane_id(tab)
        await self._activate(tab)

    def action_close_tab(self) -> None:
        if self.workspace is None:
            return
        tab = self.workspace.selected
        if len(self.workspace.tabs) <= 1:
            self.notify("The last tab cannot be closed.", severity="warning")
            return
        self.push_screen(ConfirmClose(tab.title), lambda yes: self._close(tab) if yes else None)

    @work(exclusive=False)
    async def _close(self, tab: ChatTab) -> None:
        assert self.workspace is not None
        tabbed = self.query_one(TabbedContent)
        try:
            closing = self.workspace.close_tab(tab.tab_id)
        except LastTab as exc:
            self.notify(str(exc), severity="warning")
            return
        self._views.pop(tab.tab_id, None)
        await tabbed.remove_pane(pane_id(tab))
        tabbed.active = pane_id(self.workspace.selected)
        await self._activate(self.workspace.selected)
        result = await closing
        self.notify(
            f"“{tab.title}”: {result.message}",
            severity="information" if result.closed else "error",
        )

    async def action_next_tab(self) -> None:
        await self._step(1)

    async def action_previous_tab(self) -> None:
        await self._step(-1)

    async def _step(self, delta: int) -> None:
        if self.workspace is None:
            return
        tabs = self.workspace.tabs
        index = tabs.index(self.workspace.selected)
        await self.action_goto_tab((index + delta) % len(tabs) + 1)

    async def action_goto_tab(self, number: int) -> None:
        if self.workspace is None:
            return
        if not 1 <= number <= len(self.workspace.tabs):
            self.notify(f"There is no tab {number}.", severity="warning")
            return
        tab = self.workspace.tabs[number - 1]
        self.query_one(TabbedContent).active = pane_id(tab)
        await self._activate(tab)

    def action_pick_tab(self) -> None:
        if self.workspace is None:
            return
        titles = [f"{tab.state.icon} {tab.title}" for tab in self.workspace.tabs]
        current = self.workspace.tabs.index(self.workspace.selected)

        def go(number: int | None) -> None:
            # after the picker is gone: closing it gives focus back to the old tab's composer,
            # and focus decides the active tab, so switching earlier could be undone
            if number is not None:
                self.call_after_refresh(self.action_goto_tab, number)

        self.push_screen(PickTab(titles, current), go)

    def action_rename_tab(self) -> None:
        if self.workspace is None:
            return
        tab = self.workspace.selected

        def rename(title: str | None) -> None:
            if title is not None and self.workspace is not None:
                self.workspace.rename(tab.tab_id, title)
                self._relabel(tab)

        self.push_screen(RenameTab(tab.title), rename)

    def action_reconnect(self) -> None:
        if self.workspace is not None:
            self.workspace.reconnect(self.workspace.selected_id or "")
            self.notify("Reconnecting…", timeout=2)

    def action_copy_last(self) -> None:
        if self.workspace is None:
            return
        replies = [m for m in self.workspace.selected.messages if m.role == "assistant" and m.text]
        if not replies:
            self.notify("No reply to copy yet.", severity="warning")
            return
        self._copy(replies[-1].text)

    async def action_load_earlier(self) -> None:
        if self.workspace is not None and (view := self.view(self.workspace.selected_id)):
            loaded = await view.load_earlier()
            self.notify(f"Loaded {loaded} earlier messages." if loaded else "No earlier messages.")

    def _copy(self, text: str) -> None:
        how = copy_text(text, fallback=self.copy_to_clipboard)
        self.notify(f"Copied {len(text):,} characters ({how}).", timeout=3)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            if binding.action != "quit":
                key = binding.key.split(",")[0]
                yield SystemCommand(
                    binding.tooltip or binding.description,
                    f"Key: {key}",
                    lambda action=binding.action: self.run_action(action),  # type: ignore[misc]
                )
