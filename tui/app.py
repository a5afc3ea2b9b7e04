"""The BuilderOS Terminal chat app: tabs of Claude and Codex chats, as on the phone.

Thin by design: it draws the workspace's state and dispatches the user's intent to it. The
workspace owns which tabs are open and which is selected; the tab bar and the visible view
follow its changes one way, and nothing on screen (a click, a focus move) writes the selection
except through `Workspace.select`. Tab structure changes are drawn in the app's own message
queue, a tab's messages in its view's: one writer each.
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import on, work
from textual.actions import SkipAction
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.widgets import ContentSwitcher, Header

from tui.client.backoff import Backoff
from tui.client.frames import Provider
from tui.client.history import (
    HistoryError,
    RemoteSession,
    SessionListing,
    fetch_history,
    list_sessions,
)
from tui.client.inert import inert, inert_line, inert_name
from tui.model import keys
from tui.model.export import from_backend, local_conversation, write
from tui.model.session_list import SessionRow, merge
from tui.model.updates import Outstanding
from tui.model.workspace import (
    Change,
    ChatTab,
    LastTab,
    LiveChunk,
    SelectionChanged,
    TabActivity,
    TabClosed,
    TabLimitReached,
    TabNotice,
    TabOpened,
    TabRenamed,
    TabStateChanged,
    Workspace,
)
from tui.store import ChatStore, LocalSession, SearchHit, StoredMessage, StoreError
from tui.system import alerts
from tui.system.clipboard import copy_text
from tui.system.local_backend import BackendDidNotStart, LocalBackend, StartBackend
from tui.widgets.chat_view import ChatView, LoadEarlier, Reveal, Shown, TabChanged
from tui.widgets.conversation import ConversationLog, DisplayOptions
from tui.widgets.dialogs import ConfirmClose, PickTab, RenameTab
from tui.widgets.help import HelpScreen
from tui.widgets.history_dialogs import ExportTo, SearchHistory, SessionBrowser
from tui.widgets.key_bar import KeyBar, KeyHint
from tui.widgets.tab_bar import TabBar, tab_label

log = logging.getLogger(__name__)

DEMO_SUBTITLE = "demo — bundled mock backend"
NoticeObserver = Callable[[str], Any]


@dataclass
class ChatSetup:
    """Everything the app needs, resolved before it starts (see tui.commands.chat)."""

    store: ChatStore
    device_id: str
    url: str | None
    """None: demo mode, on the backend `start_backend` starts."""
    token: str | None
    start_backend: StartBackend | None = None
    """Demo mode's backend (the CLI hands in the bundled mock)."""
    backoff: Callable[[], Backoff] = Backoff
    open_session: str | None = None
    """A session to show in a tab at start (`builderos chat --session`), with the backend's
    history of it when the backend keeps one."""
    max_reply: int | None = None
    """The longest reply kept, in characters (None: tui.client.protocol.MAX_REPLY_CHARS)."""
    freeze_startup_objects: bool = False
    """Move what startup allocated out of the garbage collector's sight (gc.freeze). Python's
    full collections scan every live object, and the app's own widgets and styles made pauses of
    up to 180 ms while a reply streamed. Only for a process that runs one app (the CLI, the
    benchmarks): frozen objects are never collected, so a test run of many apps would keep all."""


NOTICE_CHARS = 600
"""Characters of a toast shown; a notice quoting a frame says how much more there was."""

THEME_SETTING = "theme"
TIMES_SETTING = "show_times"
DEMO_BACKEND = "demo"
"""Whose tabs demo mode shows: its own, whatever port the bundled mock got."""


class TabsChanged(Message):
    """A change to the tab list or the selection, drawn in the app's message queue."""

    def __init__(self, change: Change) -> None:
        super().__init__()
        self.change = change


def pane_id(tab_id: str) -> str:
    return f"tab-{tab_id}"


class ChatApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "BuilderOS Terminal"
    BINDINGS = [
        Binding(
            key.keys,
            key.action,
            key.label,
            show=key.show,
            priority=key.priority,
            tooltip=key.tooltip,
            id=key.id,
        )
        for key in keys.KEYS
        if key.bound
    ]
    """Derived from tui.model.keys, like the bottom line, F1 and the palette."""

    def __init__(self, setup: ChatSetup) -> None:
        super().__init__()
        self.setup = setup
        self.workspace: Workspace | None = None
        self._unobserve: Callable[[], None] = lambda: None
        self.backend: LocalBackend | None = None
        self.updates = Outstanding()
        self.notices: list[str] = []
        """Every notice shown, in order (the harness and the tests read them)."""
        self._notice_observers: list[NoticeObserver] = []
        self._views: dict[str, ChatView] = {}
        self._last_search = ""
        self._told_no_notifier = False
        self.display_options = DisplayOptions(times=self._setting(TIMES_SETTING) == "on")
        """What every conversation shows: this app is its one writer (F9)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield TabBar(id="tab-bar")
        yield ContentSwitcher(id="views")
        yield KeyBar(self._key_hints(), id="keys")

    def _key_hints(self) -> list[KeyHint]:
        """The bottom line's keys, best first (F1 lists them all)."""
        by_action = {b.action: b for b in self.BINDINGS if isinstance(b, Binding)}
        hints = []
        for key in keys.footer():
            binding = by_action.get(key.action)
            shown = self.get_key_display(binding) if binding else key.keys.replace("ctrl+", "^")
            hints.append(KeyHint(shown, key.label, key.action))
        return hints

    async def on_mount(self) -> None:
        setup = self.setup
        url, token = setup.url, setup.token
        if url is None:
            if setup.start_backend is None:
                self.exit(message="error: no backend URL and no local backend to start")
                return
            try:
                self.backend = await setup.start_backend()
            except BackendDidNotStart as exc:
                self.exit(message=f"error: the bundled mock backend did not start: {exc}")
                return
            url, token = self.backend.url, self.backend.token
        self.sub_title = DEMO_SUBTITLE if setup.url is None else url
        self._restore_theme()
        workspace = Workspace(
            setup.store,
            base_url=url,
            token=token or "",
            device_id=setup.device_id,
            backend=DEMO_BACKEND if setup.url is None else None,
            backoff=setup.backoff,
            connection_options={"max_reply": setup.max_reply} if setup.max_reply else None,
        )
        self.workspace = workspace
        self._unobserve = workspace.observe(self._workspace_changed)
        if setup.store.recovered:
            log.warning("%s", setup.store.recovered)
            self.notify(setup.store.recovered, title="History", severity="warning", timeout=30)
        try:
            workspace.restore()
        except StoreError as exc:
            self.exit(message=f"error: {exc}")
            return
        workspace.start()
        if setup.open_session:
            self._open_session(setup.open_session, url, token or "")
        self.set_interval(1.0, self._tick)
        if setup.freeze_startup_objects:
            gc.freeze()

    def _restore_theme(self) -> None:
        """The theme picked last time (ctrl+p, "theme"), and from now on each one picked is
        kept."""
        store = self.setup.store
        try:
            saved = store.setting(THEME_SETTING)
        except StoreError:
            saved = None
        if saved and saved in self.available_themes:
            self.theme = saved

        def keep(theme: Theme) -> None:
            try:
                store.set_setting(THEME_SETTING, theme.name)
            except StoreError as exc:
                self.notify(f"Theme not kept: {exc}", severity="warning")

        self.theme_changed_signal.subscribe(self, keep)

    async def on_unmount(self) -> None:
        if self.workspace is not None:
            # the screen is going: what stopping changes (replies cut, statuses) goes to disk
            # only; drawing it into widgets being torn down raced their removal
            self._unobserve()
            await self.workspace.stop()
        if self.backend is not None:
            await self.backend.stop()
        self.setup.store.close()

    # designed hooks for the harness and the tests -----------------------------------------

    async def settled(self) -> None:
        """Return once the screen shows everything the workspace has reported."""
        await self.updates.idle()

    def observe_notices(self, observer: NoticeObserver) -> Callable[[], None]:
        """Call `observer` with the text of every notice from now on; returns what stops it."""
        self._notice_observers.append(observer)
        return lambda: self._notice_observers.remove(observer)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast. Plain text by default, made inert: a notice often quotes the server
        (an odd frame, an error), and markup in it once crashed the app (`error:[/]`)."""
        message = inert(str(message))
        if len(message) > NOTICE_CHARS:  # it may quote a 16 MiB frame
            message = f"{message[:NOTICE_CHARS]}… ({len(message) - NOTICE_CHARS:,} more characters)"
        self.notices.append(message)
        for observer in list(self._notice_observers):
            observer(message)
        super().notify(
            message, title=inert_line(title), severity=severity, timeout=timeout, markup=markup
        )

    # the workspace talks -------------------------------------------------------------------

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
            case LiveChunk(tab_id):
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

    def view(self, tab_id: str | None) -> ChatView | None:
        """The tab's view (a dict, not a DOM query: this runs for every chunk)."""
        return self._views.get(tab_id or "")

    def _label(self, tab: ChatTab) -> str:
        assert self.workspace is not None
        tabs = self.workspace.tabs
        return tab_label(tabs.index(tab) + 1 if tab in tabs else 0, tab)

    def _alert(self, tab_id: str, ended: StoredMessage) -> None:
        """A reply ended in a tab not shown: the bell, a desktop notification, or both."""
        assert self.workspace is not None
        tab = self.workspace.tab(tab_id)
        if tab is None:
            return
        alert = alerts.parse(self._setting(alerts.SETTING))
        if alert in ("bell", "both"):
            self.bell()
        if alert in ("desktop", "both"):
            how = "ended" if ended.status == "complete" else ended.status
            problem = alerts.notify_desktop(
                f"{tab.title}: reply {how}", ended.text.strip()[:200] or "(no text)"
            )
            if problem and not self._told_no_notifier:
                self._told_no_notifier = True
                self.notify(f"No desktop notification: {problem}.", severity="warning")

    def _setting(self, key: str) -> str | None:
        try:
            return self.setup.store.setting(key)
        except StoreError:
            return None

    def action_toggle_times(self) -> None:
        """F9: each message's time beside its author, in every tab; kept across restarts."""
        options = self.display_options
        options.times = not options.times
        for view in self._views.values():
            if view.is_mounted:
                view.log.options_changed()
        try:
            self.setup.store.set_setting(TIMES_SETTING, "on" if options.times else "off")
        except StoreError as exc:
            self.notify(f"Not kept: {exc}", severity="warning")

    def action_reply_alert(self, alert: str) -> None:
        chosen = alerts.parse(alert)
        try:
            self.setup.store.set_setting(alerts.SETTING, chosen)
        except StoreError as exc:
            self.notify(f"Not kept: {exc}", severity="error")
            return
        self.notify(f"When a reply ends in another tab: {alerts.NAMES[chosen]}.", timeout=4)

    def _tick(self) -> None:
        """Once a second: the visible tab's countdown."""
        if self.workspace is not None and (view := self.view(self.workspace.selected_id)):
            view.update_status()

    # the user acts -------------------------------------------------------------------------

    @on(TabBar.Picked)
    def _tab_picked(self, event: TabBar.Picked) -> None:
        if self.workspace is not None and self.workspace.tab(event.tab_id) is not None:
            self.workspace.select(event.tab_id)

    @on(ConversationLog.CopyRequested)
    def _copy_message(self, event: ConversationLog.CopyRequested) -> None:
        self._copy(event.text, event.what)

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

    @work(exclusive=False)
    async def _open_session(
        self, session_id: str, url: str, token: str, fetch: bool = True
    ) -> None:
        """Show the session in a tab, with the backend's history of it if it keeps one (a
        session made on another device); without it (or `fetch` False), what this machine
        has."""
        remote = None
        try:
            remote = await fetch_history(url, token, session_id) if fetch else None
        except HistoryError as exc:
            self.notify(f"Session history not fetched: {exc}", severity="warning", timeout=8)
        if self.workspace is None:
            return
        history = from_backend(remote) if remote else None
        shown = inert_name(session_id)
        try:
            tab = self.workspace.open_session(session_id, history)
        except TabLimitReached as exc:
            self.notify(f"Session {shown} not opened: {exc}", severity="warning")
            return
        source = "from the backend" if remote else "from this machine's history"
        count = len(tab.messages) + tab.earlier
        self.notify(f"Opened session {shown}: {count} messages {source}.", timeout=5)
        if remote is not None and remote.cut:
            self.notify(f"Session history incomplete: {remote.cut}", severity="warning")

    # sessions, search, export --------------------------------------------------------------

    def action_sessions(self) -> None:
        """The session browser: this machine's sessions at once, the backend's when it
        answers."""
        workspace = self.workspace
        if workspace is None or self._in_dialog():
            return
        store = workspace.store

        def local() -> list[LocalSession]:
            try:
                every = store.sessions()
            except StoreError as exc:
                self.notify(str(exc), severity="error")
                return []
            return [s for s in every if s.backend in ("", workspace.backend)]

        me = workspace.device_id
        browser = SessionBrowser(merge([], local(), me), "Asking the backend for its sessions…")

        def chosen(row: SessionRow | None) -> None:
            if row is None:
                return
            if tab := next((t for t in workspace.tabs if t.session_id == row.session_id), None):
                workspace.select(tab.tab_id)
                return
            self._open_session(row.session_id, workspace.base_url, workspace.token, row.on_backend)

        self.push_screen(browser, chosen)
        self._list_sessions(browser, lambda remote: merge(remote, local(), me))

    @work(exclusive=True, group="sessions")
    async def _list_sessions(
        self, browser: SessionBrowser, rows: Callable[[list[RemoteSession]], list[SessionRow]]
    ) -> None:
        assert self.workspace is not None
        listing = SessionListing()
        try:
            listing = await list_sessions(self.workspace.base_url)
        except HistoryError as exc:
            note = f"Only this machine's sessions: {exc}"
        else:
            others = sum(1 for r in rows(listing) if r.other_device)
            note = f"{len(listing):,} on the backend, {others} from other devices"
            if listing.note:
                note += f"; {listing.note}"
        if browser.is_attached:
            browser.update(rows(listing), note)

    def action_search_all(self) -> None:
        if self.workspace is None or self._in_dialog():
            return
        store = self.workspace.store
        dialog = SearchHistory(store.search, self._last_search)

        def chosen(hit: SearchHit | None) -> None:
            self._last_search = dialog.text
            if hit is not None:
                self._open_hit(hit, dialog.text)

        self.push_screen(dialog, chosen)

    @work(exclusive=False)
    async def _open_hit(self, hit: SearchHit, text: str) -> None:
        """Open the result's session in its tab (this machine's history) and show the
        message there, found."""
        assert self.workspace is not None
        try:
            tab = self.workspace.open_session(hit.session_id)
        except TabLimitReached as exc:
            self.notify(f"Not opened: {exc}", severity="warning")
            return
        await self.settled()  # the tab is shown: its conversation has a size
        if (view := self.view(tab.tab_id)) is not None:
            view.enqueue(Reveal(hit.msg_id, hit.row, text))

    def action_find(self) -> None:
        workspace = self.workspace
        if workspace and not self._in_dialog() and (view := self.view(workspace.selected_id)):
            view.open_find()

    def action_attach(self) -> None:
        workspace = self.workspace
        if workspace and not self._in_dialog() and (view := self.view(workspace.selected_id)):
            view.open_attach()

    def action_export(self, format: str) -> None:
        if self.workspace is None or self._in_dialog():
            return
        tab, store = self.workspace.selected, self.workspace.store
        stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
        name = re.sub(r"[^\w.-]+", "-", tab.title).strip("-") or tab.provider
        suggested = Path.cwd() / f"{name}-{stamp}.{format}"
        what = f"“{tab.title}” as {'JSON' if format == 'json' else 'Markdown'}"

        def write_to(path: Path | None) -> None:
            if path is None:
                return
            try:
                conversation = local_conversation(store, tab.session_id)
                if conversation is None:
                    self.notify("Nothing to export yet: no message in this tab.")
                    return
                write(conversation, format, path)
            except (StoreError, OSError) as exc:
                self.notify(f"Not exported: {exc}", severity="error")
                return
            count = len(conversation.messages)
            self.notify(f"Exported {count} messages to {path}.", timeout=6)

        self.push_screen(ExportTo(what, suggested), write_to)

    def action_help(self) -> None:
        if self._in_dialog():
            return
        workspace = self.workspace
        backend = "not connected yet"
        if workspace is not None:
            backend = workspace.base_url
            if self.setup.url is None:
                backend += " (demo: the bundled mock backend, in this process)"
        self.push_screen(HelpScreen(str(self.setup.store.path.parent), backend))

    def _in_dialog(self) -> bool:
        """A dialog is open: its keys are its own (the dialog keys are priority bindings)."""
        return isinstance(self.screen, ModalScreen)

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

    def action_stop_reply(self) -> None:
        if self.workspace is not None and not self.workspace.stop_reply(
            self.workspace.selected.tab_id
        ):
            self.notify("No reply is being written in this tab.", timeout=3)

    def action_retry(self) -> None:
        if self.workspace is None:
            return
        sent = self.workspace.retry(self.workspace.selected.tab_id)
        if sent is None:
            self.notify("Nothing to retry: the last message was answered.", timeout=3)
        else:
            self.notify(f"Sending again: {sent.text[:60]}", timeout=3)

    def action_copy_last(self) -> None:
        if self.workspace is None:
            return
        replies = [m for m in self.workspace.selected.messages if m.role == "assistant" and m.text]
        if not replies:
            self.notify("No reply to copy yet.", severity="warning")
            return
        self._copy(replies[-1].text, "the last reply")

    def action_scroll_page(self, direction: int) -> None:
        view = self.view(self.workspace.selected_id) if self.workspace else None
        if view is None or self._in_dialog():
            raise SkipAction()  # the dialog's own list pages
        view.log.page(direction)

    def action_newest(self) -> None:
        if self.workspace is not None and (view := self.view(self.workspace.selected_id)):
            view.log.to_newest()

    def action_load_earlier(self) -> None:
        if self.workspace is not None and (view := self.view(self.workspace.selected_id)):
            view.enqueue(LoadEarlier())

    def _copy(self, text: str, what: str = "selection") -> None:
        how = copy_text(text, fallback=super().copy_to_clipboard)
        unsure = "OSC 52" in how  # said for longer: the user may have to copy another way
        self.notify(f"Copied {what}: {len(text):,} characters ({how}).", timeout=8 if unsure else 3)

    def copy_to_clipboard(self, text: str) -> None:
        """Textual's own copies (ctrl+c on text selected with the mouse, or in the composer)
        take the same way as ours: a clipboard tool if there is one, and a notice."""
        self._copy(text)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        current = alerts.parse(self._setting(alerts.SETTING))
        for alert in alerts.ALERTS:
            notes = ["the current choice" if alert == current else "kept across restarts"]
            if alert == alerts.DEFAULT:
                notes.append("the default")
            yield SystemCommand(
                f"When a reply ends in another tab: {alerts.NAMES[alert]}",
                ", ".join(notes).capitalize(),
                self._runner(f"reply_alert('{alert}')"),
            )
        for format, name in (("md", "Markdown"), ("json", "JSON (lossless)")):
            yield SystemCommand(
                f"Export this conversation as {name}",
                "Write the tab's whole history to a file",
                self._runner(f"export('{format}')"),
            )
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            if binding.action != "quit":
                key = binding.key.split(",")[0]
                yield SystemCommand(
                    binding.tooltip or binding.description,
                    f"Key: {key}",
                    self._runner(binding.action),
                )

    def _runner(self, action: str) -> Callable[[], Any]:
        return lambda: self.run_action(action)
