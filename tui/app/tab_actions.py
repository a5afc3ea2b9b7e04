"""What the user does to tabs: open, close, go to, pick, rename, reconnect. Each action asks
the workspace; what changes is drawn when the workspace reports it."""

from __future__ import annotations

import logging

from textual import on, work

from tui.app.core import AppCore
from tui.client.frames import Provider
from tui.model.workspace import (
    ChatTab,
    LastTab,
    TabLimitReached,
)
from tui.store import StoreError
from tui.widgets.dialogs import ConfirmClose, PickTab, RenameTab
from tui.widgets.tab_bar import TabBar

log = logging.getLogger(__name__)


class TabActions(AppCore):
    @on(TabBar.Picked)
    def _tab_picked(self, event: TabBar.Picked) -> None:
        if self.workspace is not None and self.workspace.tab(event.tab_id) is not None:
            self.workspace.select(event.tab_id)

    def action_new_tab(self, provider: Provider) -> None:
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
        self.workspace.select(tab.tab_id)

    def action_close_tab(self) -> None:
        if self.workspace is None or self._in_dialog():
            return
        tab = self.workspace.selected
        if len(self.workspace.tabs) <= 1:
            self.notify("The last tab cannot be closed.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._close(tab)

        self.push_screen(ConfirmClose(tab.title), answered)

    @work(exclusive=False)
    async def _close(self, tab: ChatTab) -> None:
        assert self.workspace is not None
        try:
            closing = self.workspace.close_tab(tab.tab_id)
        except (LastTab, KeyError) as exc:
            self.notify(str(exc), severity="warning")
            return
        result = await closing
        self.notify(
            f"“{tab.title}”: {result.message}",
            severity="information" if result.closed else "error",
        )

    def action_next_tab(self) -> None:
        if self.workspace is not None:
            self.workspace.select_relative(1)

    def action_previous_tab(self) -> None:
        if self.workspace is not None:
            self.workspace.select_relative(-1)

    def action_goto_tab(self, number: int) -> None:
        if self.workspace is None:
            return
        if not 1 <= number <= len(self.workspace.tabs):
            self.notify(f"There is no tab {number}.", severity="warning")
            return
        self.workspace.select(self.workspace.tabs[number - 1].tab_id)

    def action_pick_tab(self) -> None:
        if self.workspace is None or self._in_dialog():
            return
        titles = [f"{tab.state.icon} {tab.title}" for tab in self.workspace.tabs]
        current = self.workspace.tabs.index(self.workspace.selected)

        def go(number: int | None) -> None:
            if number is not None:
                self.action_goto_tab(number)

        self.push_screen(PickTab(titles, current), go)

    def action_rename_tab(self) -> None:
        if self.workspace is None or self._in_dialog():
            return
        tab = self.workspace.selected

        def rename(title: str | None) -> None:
            if title is not None and self.workspace is not None:
                self.workspace.rename(tab.tab_id, title)

        self.push_screen(RenameTab(tab.title), rename)

    def action_reconnect(self) -> None:
        if self.workspace is not None:
            self.workspace.reconnect(self.workspace.selected.tab_id)
            self.notify("Reconnecting…", timeout=2)
