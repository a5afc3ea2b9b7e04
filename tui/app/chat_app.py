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
from collections.abc import Callable, Iterable
from typing import Any

from textual.actions import SkipAction
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import ContentSwitcher, Header

from tui.app.approvals import AsksApprovals
from tui.app.core import TIMES_SETTING
from tui.app.history_actions import HistoryActions
from tui.app.tab_actions import TabActions
from tui.model import keys
from tui.model.workspace import REFRESH_EVERY, Workspace
from tui.store import StoreError
from tui.system import alerts
from tui.system.local_backend import BackendDidNotStart
from tui.widgets.chat_view import LoadEarlier
from tui.widgets.help import HelpScreen
from tui.widgets.key_bar import KeyBar, KeyHint
from tui.widgets.tab_bar import TabBar

log = logging.getLogger(__name__)

DEMO_SUBTITLE = "demo — bundled mock backend"
DEMO_BACKEND = "demo"
"""Whose tabs demo mode shows: its own, whatever port the bundled mock got."""
THEME_SETTING = "theme"


class ChatApp(AsksApprovals, TabActions, HistoryActions):
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
        self.set_interval(REFRESH_EVERY, self._refresh_shown)
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

    def action_toggle_details(self) -> None:
        """F7: every tool call with its details (input, output, diff), or none."""
        options = self.display_options
        options.details = not options.details
        for view in self._views.values():
            if view.is_mounted:
                view.log.options_changed()

    def action_choose_work(self, direction: int) -> None:
        """alt+up / alt+down: choose a tool call in this tab, for Enter to expand."""
        view = self.view(self.workspace.selected_id) if self.workspace else None
        if view is None or self._in_dialog():
            raise SkipAction()
        if not view.choose_work(direction):
            self.notify("No tool calls in this tab.", timeout=3)

    def action_reply_alert(self, alert: str) -> None:
        chosen = alerts.parse(alert)
        try:
            self.setup.store.set_setting(alerts.SETTING, chosen)
        except StoreError as exc:
            self.notify(f"Not kept: {exc}", severity="error")
            return
        self.notify(f"When a reply ends in another tab: {alerts.NAMES[chosen]}.", timeout=4)

    def action_find(self) -> None:
        workspace = self.workspace
        if workspace and not self._in_dialog() and (view := self.view(workspace.selected_id)):
            view.open_find()

    def action_attach(self) -> None:
        workspace = self.workspace
        if workspace and not self._in_dialog() and (view := self.view(workspace.selected_id)):
            view.open_attach()

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
