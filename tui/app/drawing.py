"""Drawing the workspace: each change it reports goes to what draws it, one writer each. Tab
structure changes are drawn in the app's own message queue, a tab's messages in its view's;
the bar and the switcher follow the workspace's selection, never the other way."""

from __future__ import annotations

import logging

from textual.message import Message
from textual.widgets import ContentSwitcher

from tui.app.core import AppCore, pane_id
from tui.model.workspace import (
    ActivityChanged,
    Change,
    ChatTab,
    LiveChunk,
    SelectionChanged,
    TabActivity,
    TabClosed,
    TabNotice,
    TabOpened,
    TabRenamed,
    TabStateChanged,
)
from tui.store import StoredMessage
from tui.system import alerts
from tui.widgets.chat_view import ChatView, Shown, TabChanged, Working
from tui.widgets.tab_bar import TabBar, tab_label

log = logging.getLogger(__name__)


class TabsChanged(Message):
    """A change to the tab list or the selection, drawn in the app's message queue."""

    def __init__(self, change: Change) -> None:
        super().__init__()
        self.change = change


class DrawsWorkspace(AppCore):
    def _workspace_changed(self, change: Change) -> None:
        match change:
            case TabNotice(_, text, severity):
                self.notify(text, severity=severity, timeout=8)  # type: ignore[arg-type]
            case TabOpened(tab_id):
                assert self.workspace is not None
                tab = self.workspace.tab(tab_id)
                assert tab is not None
                # made now, so changes for the tab queue in its view until it is mounted
                self._views[tab_id] = ChatView(
                    self.workspace,
                    tab,
                    self.updates,
                    options=self.display_options,
                    id=pane_id(tab_id),
                )
                self._draw_tabs(change)
            case TabClosed() | TabRenamed() | SelectionChanged():
                self._draw_tabs(change)
            case TabActivity(tab_id, ended):
                self._draw_tabs(change)
                if ended is not None:
                    self._alert(tab_id, ended)
            case TabStateChanged(tab_id):
                self._draw_tabs(change)
                self._to_view(tab_id, change)
            case LiveChunk(tab_id) | ActivityChanged(tab_id):
                if (view := self._views.get(tab_id)) is not None:
                    view.chunk_arrived(change)
            case _:
                self._to_view(change.tab_id, change)

    def _to_view(self, tab_id: str, change: Change) -> None:
        view = self._views.get(tab_id)
        if view is not None:
            view.enqueue(TabChanged(change))

    def _draw_tabs(self, change: Change) -> None:
        if self.post_message(TabsChanged(change)):
            self.updates.posted(self)

    def on_working(self, message: Working) -> None:
        """The shown tab's agent moved to another call: its label says so."""
        self._draw_tabs(TabActivity(message.tab_id))

    async def on_tabs_changed(self, message: TabsChanged) -> None:
        try:
            await self._redraw_tabs(message.change)
        except Exception as exc:  # a drawing bug must not take the app (and the chats) down
            log.exception("could not draw %s", message.change)
            self.notify(f"Display error ({exc}); the chats are safe on disk.", severity="error")
        finally:
            self.updates.handled(self)

    async def _redraw_tabs(self, change: Change) -> None:
        assert self.workspace is not None
        bar = self.query_one(TabBar)
        match change:
            case TabOpened(tab_id):
                tab = self.workspace.tab(tab_id)
                view = self._views.get(tab_id)
                if tab is None or view is None:
                    return  # closed again before it was drawn
                await bar.add(tab_id, self._label(tab))
                await self.query_one(ContentSwitcher).add_content(view)
                if self.workspace.selected_id == tab_id:
                    self._show_selected()
            case TabClosed(tab_id):
                view = self._views.pop(tab_id, None)
                await bar.remove_tab(tab_id)
                if view is not None:
                    await view.remove()
                for tab in self.workspace.tabs:  # the tabs after it moved up a number
                    if bar.has(tab.tab_id):
                        bar.relabel(tab.tab_id, self._label(tab), tab.unread)
            case TabRenamed(tab_id) | TabStateChanged(tab_id) | TabActivity(tab_id):
                tab = self.workspace.tab(tab_id)
                if tab is not None and bar.has(tab_id):
                    bar.relabel(tab_id, self._label(tab), tab.unread)
            case SelectionChanged():
                self._show_selected()

    def _show_selected(self) -> None:
        """Draw the workspace's selection: the bar marks it, the switcher shows its view."""
        assert self.workspace is not None
        tab = self.workspace.selected
        view = self._views.get(tab.tab_id)
        if view is None or not view.is_attached:
            return  # drawn once its TabOpened is handled
        self.query_one(TabBar).show_selected(tab.tab_id)
        self.query_one(ContentSwitcher).current = pane_id(tab.tab_id)
        for each in self._views.values():
            each.active = each is view
        view.enqueue(Shown())
        view.composer.focus()

    def _label(self, tab: ChatTab) -> str:
        assert self.workspace is not None
        tabs = self.workspace.tabs
        return tab_label(tabs.index(tab) + 1 if tab in tabs else 0, tab)

    def _alert(self, tab_id: str, ended: StoredMessage) -> None:
        """A reply ended in a tab not shown: the bell, a desktop notification, or both."""
        assert self.workspace is not None
        tab = self.workspace.tab(tab_id)
        if tab is not None:
            how = "ended" if ended.status == "complete" else ended.status
            self._ring(f"{tab.title}: reply {how}", ended.text.strip()[:200] or "(no text)")

    def _ring(self, heading: str, body: str) -> None:
        """Call the user as the reply-alert setting says: the bell, the desktop, both."""
        alert = alerts.parse(self._setting(alerts.SETTING))
        if alert in ("bell", "both"):
            self.bell()
        if alert in ("desktop", "both"):
            problem = alerts.notify_desktop(heading, body)
            if problem and not self._told_no_notifier:
                self._told_no_notifier = True
                self.notify(f"No desktop notification: {problem}.", severity="warning")

    def _tick(self) -> None:
        """Once a second: the visible tab's countdown."""
        if self.workspace is not None and (view := self.view(self.workspace.selected_id)):
            view.update_status()
