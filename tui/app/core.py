"""What every part of the app shares: its state (the workspace, the views, the notices), the
hooks the harness and the tests wait on, and the few helpers each action uses. The app's
features (drawing the workspace, tab actions, history actions) build on it, one file each."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import App
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen

from tui.app.setup import ChatSetup
from tui.client.inert import inert, inert_line
from tui.model.updates import Outstanding
from tui.model.workspace import Workspace
from tui.store import StoreError
from tui.system.clipboard import copy_text
from tui.system.local_backend import LocalBackend
from tui.widgets.chat_view import ChatView
from tui.widgets.conversation import ConversationLog, DisplayOptions

log = logging.getLogger(__name__)

NOTICE_CHARS = 600
"""Characters of a toast shown; a notice quoting a frame says how much more there was."""

TIMES_SETTING = "show_times"
"""The setting that keeps F9 (times beside the authors) across restarts."""
NoticeObserver = Callable[[str], Any]


def pane_id(tab_id: str) -> str:
    return f"tab-{tab_id}"


class AppCore(App[None]):
    """The app's shared state and hooks; `ChatApp` is it with every feature."""

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

    def view(self, tab_id: str | None) -> ChatView | None:
        """The tab's view (a dict, not a DOM query: this runs for every chunk)."""
        return self._views.get(tab_id or "")

    def _setting(self, key: str) -> str | None:
        try:
            return self.setup.store.setting(key)
        except StoreError:
            return None

    def _in_dialog(self) -> bool:
        """A dialog is open: its keys are its own (the dialog keys are priority bindings)."""
        return isinstance(self.screen, ModalScreen)

    @on(ConversationLog.CopyRequested)
    def _copy_message(self, event: ConversationLog.CopyRequested) -> None:
        self._copy(event.text, event.what)

    def _copy(self, text: str, what: str = "selection") -> None:
        how = copy_text(text, fallback=super().copy_to_clipboard)
        unsure = "OSC 52" in how  # said for longer: the user may have to copy another way
        self.notify(f"Copied {what}: {len(text):,} characters ({how}).", timeout=8 if unsure else 3)

    def copy_to_clipboard(self, text: str) -> None:
        """Textual's own copies (ctrl+c on text selected with the mouse, or in the composer)
        take the same way as ours: a clipboard tool if there is one, and a notice."""
        self._copy(text)
