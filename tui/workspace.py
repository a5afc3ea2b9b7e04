"""The tab model of the iOS app (CONTRACT.md §5), without a screen.

A Workspace owns up to five ChatTabs; each owns its session id, its connection and its history.
It is the one owner of what is open and which tab is selected: the UI calls its methods to say
what the user wants, and draws what it reports. Every change is a `Change` record handed to each
observer (`observe`), in order; the app draws them, the harness and the tests wait on them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tui.client import connection as conn
from tui.client import protocol as wire
from tui.client.backoff import Backoff
from tui.client.frames import DISPLAY_NAMES, Provider
from tui.client.http import CloseResult, close_session
from tui.client.ids import new_id, session_id
from tui.client.state import ConnectionState, Phase
from tui.store import ChatStore, StoredMessage, StoreError, TabRow

log = logging.getLogger(__name__)

MAX_TABS = 5
WINDOW = 100
"""Messages per tab loaded at start; earlier ones are paged in on request."""


class TabLimitReached(Exception):
    pass


class LastTab(Exception):
    pass


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class ChatTab:
    tab_id: str
    provider: Provider
    title: str
    session_id: str
    draft: str = ""
    messages: list[StoredMessage] = field(default_factory=list)
    earlier: int = 0
    """Stored messages older than the loaded window."""
    live: str | None = None
    """The reply being streamed, as received so far."""
    state: ConnectionState = field(default_factory=lambda: ConnectionState(Phase.STOPPED))
    connection: conn.TabConnection | None = None

    @property
    def waiting(self) -> bool:
        """A reply is on its way (the UI shows "working")."""
        return self.live is not None or bool(self.connection and self.connection.busy)


# what the UI is told -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageAdded:
    tab_id: str
    message: StoredMessage


@dataclass(frozen=True)
class MessageChanged:
    tab_id: str
    message: StoredMessage


@dataclass(frozen=True)
class LiveChunk:
    tab_id: str
    text: str


@dataclass(frozen=True)
class LiveEnded:
    """The streamed reply ended; `message` is what to show in its place (None: nothing came)."""

    tab_id: str
    message: StoredMessage | None


@dataclass(frozen=True)
class TabStateChanged:
    tab_id: str
    state: ConnectionState


@dataclass(frozen=True)
class TabNotice:
    tab_id: str | None
    text: str
    severity: str = "warning"


@dataclass(frozen=True)
class TabOpened:
    """A tab joined the end of the tab list (restored at start, or new)."""

    tab_id: str


@dataclass(frozen=True)
class TabClosed:
    tab_id: str


@dataclass(frozen=True)
class TabRenamed:
    tab_id: str


@dataclass(frozen=True)
class SelectionChanged:
    """`Workspace.selected_id` changed: the one place that decides which tab is shown."""

    tab_id: str


Change = (
    MessageAdded
    | MessageChanged
    | LiveChunk
    | LiveEnded
    | TabStateChanged
    | TabNotice
    | TabOpened
    | TabClosed
    | TabRenamed
    | SelectionChanged
)
Observer = Callable[[Change], Any]


# the workspace ----------------------------------------------------------------------------------


class Workspace:
    def __init__(
        self,
        store: ChatStore,
        *,
        base_url: str,
        token: str,
        device_id: str,
        backoff: Callable[[], Backoff] = Backoff,
    ) -> None:
        self.store = store
        self.base_url = base_url
        self.token = token
        self.device_id = device_id
        self._observers: list[Observer] = []
        self._backoff = backoff
        self.tabs: list[ChatTab] = []
        self.selected_id: str | None = None
        self._started = False

    # observers ---------------------------------------------------------------------------------

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer` with every change from now on; returns what stops it."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def _tell(self, change: Change) -> None:
        for observer in list(self._observers):
            observer(change)

    # life cycle --------------------------------------------------------------------------------

    def restore(self) -> None:
        """Load the open tabs with their recent history; a first run gets one Claude tab."""
        for row in self.store.open_tabs():
            provider: Provider = "codex" if row.provider == "codex" else "claude"
            tab = ChatTab(row.tab_id, provider, row.title, row.session_id, row.draft)
            tab.messages = self.store.recent(tab.session_id, WINDOW)
            tab.earlier = max(0, self.store.count(tab.session_id) - len(tab.messages))
            self._attach(tab)
            assert tab.connection is not None
            for waiting in self.store.pending(tab.session_id):
                tab.connection.send(waiting.msg_id, waiting.text)  # never written: send now
        if not self.tabs:
            self.add_tab("claude")
        selected = self.store.setting("selected_tab")
        self.select(selected if selected and self.tab(selected) else self.tabs[0].tab_id)

    def start(self) -> None:
        self._started = True
        for tab in self.tabs:
            assert tab.connection is not None
            tab.connection.start()

    async def stop(self) -> None:
        self._started = False
        for tab in self.tabs:
            if tab.connection is not None:
                await tab.connection.stop()

    # tabs --------------------------------------------------------------------------------------

    def tab(self, tab_id: str | None) -> ChatTab | None:
        return next((t for t in self.tabs if t.tab_id == tab_id), None)

    def _tab(self, tab_id: str) -> ChatTab:
        tab = self.tab(tab_id)
        if tab is None:
            raise KeyError(f"no open tab {tab_id}")
        return tab

    @property
    def selected(self) -> ChatTab:
        return self.tab(self.selected_id) or self.tabs[0]

    def add_tab(self, provider: Provider) -> ChatTab:
        if len(self.tabs) >= MAX_TABS:
            raise TabLimitReached(f"{MAX_TABS} tabs is the limit: close one to open another")
        tab_id = new_id()
        tab = ChatTab(
            tab_id, provider, DISPLAY_NAMES[provider], session_id(self.device_id, provider, tab_id)
        )
        position = len(self.tabs)
        self.store.add_tab(
            TabRow(tab_id, position, provider, tab.title, tab.session_id, ""), _now()
        )
        self._attach(tab)
        if self._started and tab.connection is not None:
            tab.connection.start()
        return tab

    def _attach(self, tab: ChatTab) -> None:
        tab.connection = conn.TabConnection(
            base_url=self.base_url,
            token=self.token,
            provider=tab.provider,
            session_id=tab.session_id,
            device_id=self.device_id,
            on_event=lambda event: self._on_event(tab, event),
            backoff=self._backoff(),
        )
        self.tabs.append(tab)
        self._tell(TabOpened(tab.tab_id))

    def close_tab(self, tab_id: str) -> Coroutine[Any, Any, CloseResult]:
        """Drop the tab now (LastTab if it is the last); the returned coroutine disconnects it
        and closes its session on the backend, once. The history stays on disk."""
        if len(self.tabs) <= 1:
            raise LastTab("the last tab cannot be closed")
        tab = self._tab(tab_id)
        index = self.tabs.index(tab)
        self.tabs.remove(tab)
        if self.selected_id == tab_id:
            self.select(self.tabs[min(index, len(self.tabs) - 1)].tab_id)
        self._save(lambda: self.store.close_tab(tab_id, _now()), tab_id)
        self._tell(TabClosed(tab_id))
        return self._disconnect_and_close(tab)

    async def _disconnect_and_close(self, tab: ChatTab) -> CloseResult:
        if tab.connection is not None:
            await tab.connection.stop()
        return await close_session(self.base_url, self.token, tab.provider, tab.session_id)

    def rename(self, tab_id: str, title: str) -> None:
        tab = self._tab(tab_id)
        tab.title = title.strip()[:40] or DISPLAY_NAMES[tab.provider]
        self._save(lambda: self.store.update_tab(tab_id, title=tab.title), tab_id)
        self._tell(TabRenamed(tab_id))

    def select(self, tab_id: str) -> None:
        """Show this tab (KeyError if it is not open). The only writer of `selected_id`."""
        self._tab(tab_id)
        if self.selected_id == tab_id:
            return
        self.selected_id = tab_id
        self._save(lambda: self.store.set_setting("selected_tab", tab_id), tab_id)
        self._tell(SelectionChanged(tab_id))

    def select_relative(self, delta: int) -> None:
        """The next (+1) or previous (-1) tab, wrapping around."""
        index = self.tabs.index(self.selected)
        self.select(self.tabs[(index + delta) % len(self.tabs)].tab_id)

    def set_draft(self, tab_id: str, text: str) -> None:
        tab = self._tab(tab_id)
        if tab.draft != text:
            tab.draft = text
            self._save(lambda: self.store.update_tab(tab_id, draft=text), tab_id)

    def reconnect(self, tab_id: str) -> None:
        connection = self._tab(tab_id).connection
        if connection is not None:
            connection.reconnect_now()

    def load_earlier(self, tab_id: str, count: int = WINDOW) -> list[StoredMessage]:
        """Page older history into the tab; returns the messages added at its top."""
        tab = self._tab(tab_id)
        first = tab.messages[0].row if tab.messages else None
        older = self.store.recent(tab.session_id, count, before_row=first)
        tab.messages[:0] = older
        tab.earlier = max(0, tab.earlier - len(older))
        return older

    # chatting ----------------------------------------------------------------------------------

    def send(self, tab_id: str, text: str) -> StoredMessage:
        """Store the message and queue it: sent now if connected, else once reconnected."""
        tab = self._tab(tab_id)
        message = StoredMessage(new_id(), "user", text, "pending", _now())
        self._add(tab, message)
        assert tab.connection is not None
        tab.connection.send(message.msg_id, text)
        self.set_draft(tab_id, "")
        return message

    def _add(self, tab: ChatTab, message: StoredMessage) -> None:
        tab.messages.append(message)
        self._save(lambda: self.store.append(tab.session_id, message), tab.tab_id)
        self._tell(MessageAdded(tab.tab_id, message))

    def _end_live(self, tab: ChatTab, status: str) -> StoredMessage | None:
        text, tab.live = tab.live, None
        if text is None:
            return None
        message = StoredMessage(new_id(), "assistant", text, status, _now())
        tab.messages.append(message)
        self._save(lambda: self.store.append(tab.session_id, message), tab.tab_id)
        self._tell(LiveEnded(tab.tab_id, message))
        return message

    def _on_event(self, tab: ChatTab, event: conn.ClientEvent) -> None:
        match event:
            case conn.StateChanged(state):
                tab.state = state
                self._tell(TabStateChanged(tab.tab_id, state))
            case conn.Delivered(msg_id):
                self._save(lambda: self.store.set_status(msg_id, "sent"), tab.tab_id)
                for message in reversed(tab.messages):  # it may be older than the loaded window
                    if message.msg_id == msg_id:
                        message.status = "sent"
                        self._tell(MessageChanged(tab.tab_id, message))
                        break
            case wire.ReplyChunk(_, text):
                tab.live = (tab.live or "") + text
                self._tell(LiveChunk(tab.tab_id, text))
            case wire.ReplyDone():
                if tab.live is None:
                    tab.live = ""
                self._end_live(tab, "complete")
            case wire.ReplyFailed() as failed:
                self._end_live(tab, "interrupted")
                self._add(tab, StoredMessage(new_id(), "error", failed.message, "error", _now()))
            case wire.ReplyInterrupted():
                if tab.live is None:
                    tab.live = ""
                self._end_live(tab, "interrupted")
            case conn.Notice(text):
                self._tell(TabNotice(tab.tab_id, text))

    def _save(self, write: Callable[[], Any], tab_id: str | None) -> None:
        """Write to the local history; a failure is shown, and nothing on screen is lost."""
        try:
            write()
        except StoreError as exc:
            log.error("%s", exc)
            self._tell(TabNotice(tab_id, f"Not saved: {exc}", "error"))
