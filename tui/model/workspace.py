"""The tab model of the iOS app (docs/protocol.md §1.5), without a screen.

A Workspace owns up to five ChatTabs; each owns its session id, its connection and its history.
It is the one owner of what is open and which tab is selected: the UI calls its methods to say
what the user wants, and draws what it reports. Every change is a `Change` record handed to each
observer (`observe`), in order; the app draws them, the harness and the tests wait on them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from tui.client.activity import ActivityItem, Answer, Approval
from tui.client.attachments import Attachment, dumps
from tui.client.backoff import Backoff
from tui.client.connection import (
    ClientEvent,
    Delivered,
    Notice,
    Outgoing,
    StateChanged,
    TabConnection,
)
from tui.client.frames import DISPLAY_NAMES, BadURL, Provider, normalise_base_url
from tui.client.http import CloseResult, close_session
from tui.client.ids import new_id, session_id
from tui.client.protocol import (
    Acknowledged,
    ActivityReported,
    ApprovalAsked,
    ApprovalDecided,
    NotConfirmed,
    PlanReported,
    PresenceChanged,
    ReplyChunk,
    ReplyDone,
    ReplyFailed,
    ReplyInterrupted,
    ReplyStopped,
    Requeued,
    ResumeDone,
    SessionClosed,
    TurnReported,
)
from tui.client.state import ConnectionState, Phase
from tui.client.sync import Device, Turn, short_id, this_device_name
from tui.model.find import Find
from tui.model.reply import Began, Reopened, ReplyInFlight, Worked, reply_id
from tui.store import ChatStore, Status, StoredMessage, StoreError, TabRow

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_TABS = 5
WINDOW = 100
"""Messages per tab loaded at start; earlier ones are paged in on request."""
RETRYABLE: tuple[Status, ...] = ("interrupted", "stopped", "error")
REFRESH_EVERY = 5
"""Seconds between two looks at the shown tab's session history, on a server without sync."""
"""How a reply may have ended for ctrl+r to ask again."""


class TabLimitReached(Exception):
    pass


class LastTab(Exception):
    pass


def _backend_key(base_url: str) -> str:
    try:
        return normalise_base_url(base_url)
    except BadURL:
        return base_url


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _swap(messages: list[StoredMessage], old: StoredMessage, new: StoredMessage) -> None:
    """`new` takes the place of `old` (the newest place it holds)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index] is old:
            messages[index] = new
            return


def _outgoing(message: StoredMessage) -> tuple[str, str, tuple[dict[str, Any], ...]]:
    """A stored message as the connection sends it."""
    return message.msg_id, message.text, tuple(a.wire() for a in message.attachments)


@dataclass
class ChatTab:
    tab_id: str
    provider: Provider
    title: str
    session_id: str
    draft: str = ""
    draft_attachments: tuple[Attachment, ...] = ()
    """Files uploaded for the message being written, kept with the draft."""
    messages: list[StoredMessage] = field(default_factory=list)
    earlier: int = 0
    """Stored messages older than the loaded window."""
    reply: ReplyInFlight = field(default_factory=ReplyInFlight)
    """The reply being written, its one owner (tui.model.reply)."""
    state: ConnectionState = field(default_factory=lambda: ConnectionState(Phase.STOPPED))
    connection: TabConnection | None = None
    unread: bool = False
    """A reply ended while another tab was shown, and this tab has not been shown since."""
    approvals: dict[str, Approval] = field(default_factory=dict)
    """The agent's questions still open in this tab, by id, oldest first (kept on disk)."""
    devices: tuple[Device, ...] = ()
    """The other devices on the session now (sync, docs/protocol.md §5.3)."""
    closed_by: str | None = None
    """The session was closed on another device (its name), and not used here since."""

    @property
    def doing(self) -> ActivityItem | None:
        """What the agent is doing right now in the reply being written, if it says."""
        reopened = self.reply.reopened
        return (reopened.activity if reopened else self.reply.activity).current

    @property
    def live(self) -> str | None:
        """The reply being streamed as one text (None: none is)."""
        return self.reply.text

    @property
    def live_for(self) -> str | None:
        """The message the reply being streamed answers."""
        return self.reply.answers

    @property
    def replying(self) -> bool:
        """A reply is being written: a new one, or one cut at the last quit that resumes."""
        return self.reply.writing

    @property
    def waiting(self) -> bool:
        """A reply is on its way (the status line says so)."""
        return self.live is not None or bool(self.connection and self.connection.protocol.awaiting)


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
class ActivityChanged:
    """The agent's work on the reply being written changed (a tool call, the plan)."""

    tab_id: str


@dataclass(frozen=True)
class ApprovalOpened:
    """The agent asks; the tab's question is `approval` (docs/protocol.md §4.3)."""

    tab_id: str
    approval: Approval


@dataclass(frozen=True)
class ApprovalClosed:
    """The question was answered, here or elsewhere (`by`), or its reply ended."""

    tab_id: str
    approval_id: str
    decision: str
    by: str


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
class TabActivity:
    """A reply began or ended in the tab, or it was read: its label changes. `ended`: the reply
    that just ended, in a tab not shown (the app may ring the bell)."""

    tab_id: str
    ended: StoredMessage | None = None


@dataclass(frozen=True)
class SelectionChanged:
    """`Workspace.selected_id` changed: the one place that decides which tab is shown."""

    tab_id: str


Change = (
    MessageAdded
    | MessageChanged
    | LiveChunk
    | LiveEnded
    | ActivityChanged
    | ApprovalOpened
    | ApprovalClosed
    | TabStateChanged
    | TabNotice
    | TabOpened
    | TabClosed
    | TabRenamed
    | TabActivity
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
        device_name: str | None = None,
        backend: str | None = None,
        backoff: Callable[[], Backoff] = Backoff,
        connection_options: dict[str, Any] | None = None,
    ) -> None:
        """`backend`: whose tabs these are (default: the base URL; demo mode has its own).
        `device_name`: what the other devices on a session call this one (default: the host
        name)."""
        self.store = store
        self.base_url = base_url
        self.backend = backend or _backend_key(base_url)
        self.connection_options = connection_options or {}
        self.token = token
        self.device_id = device_id
        self.device_name = this_device_name() if device_name is None else device_name
        self._observers: list[Observer] = []
        self._backoff = backoff
        self.tabs: list[ChatTab] = []
        self.selected_id: str | None = None
        self._started = False
        self._stopping = False
        """The app quits: replies cut now resume at the next start, their questions too."""

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
        """Load this backend's open tabs with their recent history; a first run gets one
        Claude tab. Messages never written are queued; messages written and never answered
        are sent again or marked not confirmed once the server's features are known."""
        adopted = self.store.adopt_unowned_tabs(self.backend)
        if adopted:
            self._tell(
                TabNotice(
                    None,
                    f"{adopted} tab(s) from an earlier version now belong to "
                    f"this backend ({self.backend}).",
                    "information",
                )
            )
        for row in self.store.open_tabs(self.backend):
            provider: Provider = "codex" if row.provider == "codex" else "claude"
            tab = ChatTab(
                row.tab_id, provider, row.title, row.session_id, row.draft, row.draft_attachments
            )
            tab.messages = [  # a reply still "replying": the app died while it streamed
                replace(m, status="interrupted") if m.status == "replying" else m
                for m in self.store.recent(tab.session_id, WINDOW)
            ]
            tab.earlier = max(0, self.store.count(tab.session_id) - len(tab.messages))
            tab.reply.saved_seq = self.store.last_seq(tab.session_id)
            tab.approvals = {a.id: a for a in self.store.open_approvals(tab.session_id)}
            self._attach(tab)
            assert tab.connection is not None
            for waiting in self.store.pending(tab.session_id):
                tab.connection.send(*_outgoing(waiting))  # never written: send now
            tab.connection.unconfirmed = [
                Outgoing(*_outgoing(m)) for m in self.store.with_status(tab.session_id, "sent")
            ]
        if not self.tabs:
            self.add_tab("claude")
        selected = self.store.setting(self._selected_key)
        self.select(selected if selected and self.tab(selected) else self.tabs[0].tab_id)

    def start(self) -> None:
        self._started = True
        for tab in self.tabs:
            assert tab.connection is not None
            tab.connection.start()

    async def stop(self) -> None:
        """Disconnect every tab; replies cut short are saved as interrupted (resumed, if the
        server can, at the next start)."""
        self._started, self._stopping = False, True
        for tab in self.tabs:
            if tab.connection is not None:
                await tab.connection.stop()
            self._save_progress(tab)

    @property
    def _selected_key(self) -> str:
        return f"selected_tab@{self.backend}"

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
            TabRow(tab_id, position, provider, tab.title, tab.session_id, ""), _now(), self.backend
        )
        self._attach(tab)
        if self._started and tab.connection is not None:
            tab.connection.start()
        return tab

    def open_session(self, session_id: str, history: list[StoredMessage] | None = None) -> ChatTab:
        """Show the session in a tab: its tab if one is open, else a new tab that continues
        it (TabLimitReached at five). `history`: the backend's copy of the session, merged
        into the local history first (a session made on another device)."""
        for tab in self.tabs:
            if tab.session_id == session_id:
                self.select(tab.tab_id)
                return tab
        if len(self.tabs) >= MAX_TABS:
            raise TabLimitReached(f"{MAX_TABS} tabs is the limit: close one to open another")
        if history:
            self._save(lambda: self.store.save_all(session_id, history), None)
        provider: Provider = "codex" if "-codex-" in session_id else "claude"
        known = next((s for s in self.store.sessions() if s.session_id == session_id), None)
        tab_id = new_id()
        device = session_id.partition(f"-{provider}-")[0]
        title = DISPLAY_NAMES[provider]
        if device and device != self.device_id:
            title = f"{title} · {device[:10]}"  # made on another device: say which
        tab = ChatTab(tab_id, provider, known.title if known and known.title else title, session_id)
        tab.messages = self.store.recent(session_id, WINDOW)
        tab.earlier = max(0, self.store.count(session_id) - len(tab.messages))
        tab.reply.saved_seq = self.store.last_seq(session_id)
        self.store.add_tab(
            TabRow(tab_id, len(self.tabs), provider, tab.title, session_id, ""),
            _now(),
            self.backend,
        )
        self._attach(tab)
        if self._started and tab.connection is not None:
            tab.connection.start()
        self.select(tab_id)
        return tab

    def _attach(self, tab: ChatTab) -> None:
        tab.reply.replaying_all = tab.reply.saved_seq is None
        tab.connection = TabConnection(
            base_url=self.base_url,
            token=self.token,
            provider=tab.provider,
            session_id=tab.session_id,
            device_id=self.device_id,
            device_name=self.device_name,
            on_event=lambda event: self._on_event(tab, event),
            backoff=self._backoff(),
            last_seq=tab.reply.saved_seq,
            is_ours=lambda msg_id: self._is_ours(tab, msg_id),
            **self.connection_options,
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
        self._save(lambda: self.store.set_setting(self._selected_key, tab_id), tab_id)
        self._tell(SelectionChanged(tab_id))
        tab = self._tab(tab_id)
        if tab.unread:
            tab.unread = False
            self._tell(TabActivity(tab_id))

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

    def find(self, tab_id: str, term: str) -> Find:
        """Every occurrence of `term` in the tab's history, loaded or not (ctrl+f)."""
        tab = self._tab(tab_id)
        try:
            return Find(term, self.store.occurrences(tab.session_id, term))
        except StoreError as exc:  # searched what is loaded: better than nothing, and said
            self._tell(TabNotice(tab_id, f"Searched the loaded messages only: {exc}", "error"))
            return Find.among(term, tab.messages)

    def load_through(self, tab_id: str, row: int) -> list[StoredMessage]:
        """Page older history into the tab down to the message at `row` (a find hit, a search
        result); returns the messages added at its top."""
        tab = self._tab(tab_id)
        if not tab.messages or row >= tab.messages[0].row:
            return []
        try:
            older = self.store.since(tab.session_id, row, tab.messages[0].row)
        except StoreError as exc:  # shown where it is: the rest of the tab is unharmed
            self._tell(TabNotice(tab_id, f"Earlier messages not read: {exc}", "error"))
            return []
        tab.messages[:0] = older
        tab.earlier = max(0, tab.earlier - len(older))
        return older

    # chatting ----------------------------------------------------------------------------------

    def set_draft_attachments(self, tab_id: str, attached: tuple[Attachment, ...]) -> None:
        tab = self._tab(tab_id)
        if tab.draft_attachments != attached:
            tab.draft_attachments = attached
            stored = dumps(attached)
            self._save(lambda: self.store.update_tab(tab_id, draft_attachments=stored), tab_id)

    def send(
        self, tab_id: str, text: str, attachments: tuple[Attachment, ...] = ()
    ) -> StoredMessage:
        """Store the message and queue it: sent now if connected, else once reconnected.
        `attachments`: files already uploaded (see tui.model.attachment_tray)."""
        tab = self._tab(tab_id)
        message = self._add(
            tab, StoredMessage(new_id(), "user", text, "pending", _now(), attachments=attachments)
        )
        assert tab.connection is not None
        tab.connection.send(*_outgoing(message))
        if tab.closed_by is not None:
            tab.closed_by = None  # continued here
            self._tell(TabStateChanged(tab.tab_id, tab.state))
        self.set_draft(tab_id, "")
        self.set_draft_attachments(tab_id, ())
        return message

    def stop_reply(self, tab_id: str) -> bool:
        """Stop the reply being written (or awaited) in this tab; False if there is none."""
        tab = self._tab(tab_id)
        connection = tab.connection
        assert connection is not None
        current = connection.protocol.current
        target = tab.live_for or (current.msg_id if current else None)
        if target is None:
            return False
        connection.stop_reply(target)
        return True

    def retry(self, tab_id: str) -> StoredMessage | None:
        """Ask again: a message not confirmed is sent again as it is; a message whose reply
        was interrupted, stopped or failed is sent again as a new message. None: nothing to
        retry (the last exchange went well)."""
        tab = self._tab(tab_id)
        last_user = next((m for m in reversed(tab.messages) if m.role == "user"), None)
        if last_user is None:
            return None
        if last_user.status == "not_confirmed":
            self._set_status(tab, last_user.msg_id, "pending")
            assert tab.connection is not None
            tab.connection.send(*_outgoing(last_user))
            return last_user
        after = tab.messages[tab.messages.index(last_user) + 1 :]
        if tab.live is None and any(m.status in RETRYABLE for m in after):
            return self.send(tab_id, last_user.text, last_user.attachments)
        return None

    def _add(self, tab: ChatTab, message: StoredMessage) -> StoredMessage:
        """Save the message and show it; returns it as the tab holds it (with its row)."""
        row = self._save(lambda: self.store.save(tab.session_id, message), tab.tab_id)
        message = replace(message, row=row) if row is not None else message
        tab.messages.append(message)
        self._tell(MessageAdded(tab.tab_id, message))
        return message

    def _find(self, tab: ChatTab, msg_id: str) -> StoredMessage | None:
        return next((m for m in reversed(tab.messages) if m.msg_id == msg_id), None)

    def _replace(self, tab: ChatTab, old: StoredMessage, new: StoredMessage) -> None:
        """A message the tab holds has a new value: it takes the old one's place, and the UI
        is told (messages are values: nothing the UI holds changes under it)."""
        _swap(tab.messages, old, new)
        self._tell(MessageChanged(tab.tab_id, new))

    def _set_status(self, tab: ChatTab, msg_id: str, status: Status) -> None:
        self._save(lambda: self.store.set_status(msg_id, status), tab.tab_id)
        message = self._find(tab, msg_id)  # it may be older than the loaded window
        if message is not None and message.status != status:
            self._replace(tab, message, replace(message, status=status))

    def _received(self, tab: ChatTab, msg_id: str | None) -> None:
        """The server has this message (it acknowledged it, or its reply began)."""
        if msg_id is not None:
            message = self._find(tab, msg_id)
            if message is None or message.status != "acknowledged":
                self._set_status(tab, msg_id, "acknowledged")

    def _stored_reply(self, tab: ChatTab, reply_to: str | None) -> StoredMessage | None:
        return self._find(tab, reply_id(reply_to)) if reply_to else None

    def _chunk(self, tab: ChatTab, reply_to: str | None, text: str) -> None:
        stored = self._stored_reply(tab, reply_to) if tab.reply.parts is None else None
        match tab.reply.chunk(reply_to, text, stored):
            case Reopened(message, first):  # saved and redrawn with each batch, not each chunk
                assert stored is not None
                _swap(tab.messages, stored, message)
                if first:
                    self._tell(TabActivity(tab.tab_id))
                tab.reply.save_soon(lambda: self._save_progress(tab))
                return
            case Began(answers):
                self._received(tab, answers)
                self._tell(TabActivity(tab.tab_id))
            case None:
                return  # replayed (a first resume from 0): this reply is here whole
        self._tell(LiveChunk(tab.tab_id, text))
        tab.reply.save_soon(lambda: self._save_progress(tab))

    def _work(self, tab: ChatTab, reply_to: str | None, **work: Any) -> None:
        """A tool call or the plan of a reply: kept with it, saved with its text."""
        stored = self._stored_reply(tab, reply_to) if tab.reply.parts is None else None
        match tab.reply.work(reply_to, stored, **work):
            case Reopened(message, first):
                assert stored is not None
                _swap(tab.messages, stored, message)
                self._tell(MessageChanged(tab.tab_id, message))
                if first:
                    self._tell(TabActivity(tab.tab_id))
            case Worked(began):
                if began:
                    self._received(tab, reply_to)
                    self._tell(TabActivity(tab.tab_id))
                self._tell(ActivityChanged(tab.tab_id))
            case None:
                return
        tab.reply.save_soon(lambda: self._save_progress(tab))

    # approvals (docs/protocol.md §4.3) ---------------------------------------------------------

    def _asked(self, tab: ChatTab, approval: Approval) -> None:
        if approval.id in tab.approvals:
            return  # a replay of a question already open here
        tab.approvals[approval.id] = approval
        self._save(lambda: self.store.keep_approval(tab.session_id, approval, _now()), tab.tab_id)
        background = tab.tab_id != self.selected_id
        tab.unread = tab.unread or background
        self._tell(ApprovalOpened(tab.tab_id, approval))
        self._tell(TabActivity(tab.tab_id))

    def _decided(
        self, tab: ChatTab, approval_id: str, decision: str, by: str, answered: bool = True
    ) -> None:
        """The question is closed: answered (kept with the reply's work, "this device" for
        an answer from here), or not (its reply ended first)."""
        approval = tab.approvals.pop(approval_id, None)
        if approval is None:
            return
        if answered:
            who = "this device" if by == self.device_id else by
            answer = Answer(approval_id, approval.item.id, decision, who)
            stored = self._stored_reply(tab, approval.reply_to) if tab.reply.parts is None else None
            reopened = tab.reply.reopened or stored
            if (changed := tab.reply.answered(answer, stored)) is not None and reopened is not None:
                _swap(tab.messages, reopened, changed)
                self._save_progress(tab)
        self._save(lambda: self.store.drop_approval(tab.session_id, approval_id), tab.tab_id)
        self._tell(ApprovalClosed(tab.tab_id, approval_id, decision, by))
        self._tell(TabActivity(tab.tab_id))

    def answer_approval(self, tab_id: str, approval_id: str, decision: str) -> bool:
        """Answer the agent's question; False: not connected (it stays open)."""
        tab = self._tab(tab_id)
        if approval_id not in tab.approvals or tab.connection is None:
            return False
        return tab.connection.answer_approval(approval_id, decision)

    def _close_approvals(self, tab: ChatTab, reply_to: str | None) -> None:
        """A reply ended: the questions it asked close with it."""
        for approval in list(tab.approvals.values()):
            if reply_to is None or approval.reply_to in (reply_to, None):
                self._decided(tab, approval.id, "deny", "the reply ended", answered=False)

    def _end(
        self, tab: ChatTab, reply_to: str | None, status: Status, whole: str | None = None
    ) -> None:
        """The reply to `reply_to` ended: save it whole with the frame number it ends at.
        `whole`: its text, for a reply that was not streamed (one no message asked for)."""
        if tab.approvals and not self._stopping:  # (quitting: the questions stay open,
            self._close_approvals(tab, reply_to or tab.live_for)  # asked again at the start)
        ended = tab.reply.end(reply_to, status, whole, self._stored_reply(tab, reply_to), _now())
        if ended is None:
            return  # replayed: it ended here already
        message = ended.message
        rows = self._save_progress(tab, [message])
        if ended.finishes is not None:
            self._replace(tab, ended.finishes, message)
        else:
            message = replace(message, row=rows[0]) if rows else message
            tab.messages.append(message)
            self._tell(LiveEnded(tab.tab_id, message))
        self._ended(tab, message)

    def _ended(self, tab: ChatTab, reply: StoredMessage) -> None:
        """A reply ended: the tab's label changes; in a tab not shown, it is unread."""
        background = tab.tab_id != self.selected_id
        tab.unread = tab.unread or background
        self._tell(TabActivity(tab.tab_id, reply if background else None))

    def _save_progress(
        self, tab: ChatTab, replies: list[StoredMessage] | None = None
    ) -> list[int] | None:
        """Save the reply being written (or the replies given) and the number of the frame
        they reach, together; the rows the replies were saved at (None: not saved)."""
        if replies is None:
            replies = tab.reply.progress(_now())
            if tab.reply.reopened is not None:  # its new text is drawn with each save
                self._tell(MessageChanged(tab.tab_id, tab.reply.reopened))
        seq = tab.connection.protocol.last_seq if tab.connection else None
        tab.reply.saved(seq)
        return self._save(
            lambda: self.store.save_progress(tab.session_id, seq, replies), tab.tab_id
        )

    def handle(self, tab_id: str, event: ClientEvent) -> None:
        """What a tab's connection reports, as its connection hands it over: the seam where
        tests and benchmarks play a server's events without a socket (KeyError: no such tab)."""
        self._on_event(self._tab(tab_id), event)

    def _on_event(self, tab: ChatTab, event: ClientEvent) -> None:
        match event:
            case StateChanged(state):
                tab.state = state
                self._tell(TabStateChanged(tab.tab_id, state))
            case Delivered(msg_id):
                self._set_status(tab, msg_id, "sent")
            case Acknowledged(msg_id):
                self._received(tab, msg_id)
                if tab.live is None:
                    self._save_progress(tab)
            case Requeued(msg_id):
                self._set_status(tab, msg_id, "pending")
            case NotConfirmed(msg_id):
                self._set_status(tab, msg_id, "not_confirmed")
            case ReplyChunk(reply_to, text):
                self._chunk(tab, reply_to, text)
            case ReplyDone(reply_to, text):
                self._received(tab, reply_to)
                self._end(tab, reply_to, "complete", text)
            case ReplyFailed(reply_to) as failed:
                connection = tab.connection
                if reply_to and connection is not None and not connection.protocol.delivery:
                    self._received(tab, reply_to)  # it was answered; with acks, an ack says so
                if tab.live is not None or (reply_to and self._find(tab, reply_id(reply_to))):
                    self._end(tab, reply_to, "interrupted")
                self._add(tab, StoredMessage(new_id(), "error", failed.message, "error", _now()))
            case ReplyInterrupted(reply_to):
                self._end(tab, reply_to, "interrupted")
            case ReplyStopped(reply_to):
                self._end(tab, reply_to, "stopped")
            case ResumeDone():
                tab.reply.resumed()
                self._save_progress(tab)
            case ActivityReported(reply_to, item):
                self._work(tab, reply_to, item=item)
            case PlanReported(reply_to, plan):
                self._work(tab, reply_to, plan=plan)
            case ApprovalAsked(_, approval):
                self._asked(tab, approval)
            case ApprovalDecided(_, approval_id, decision, by):
                self._decided(tab, approval_id, decision, by)
            case TurnReported(turn):
                self._turn(tab, turn)
            case PresenceChanged(devices):
                tab.devices = tuple(d for d in devices if d.device_id != self.device_id)
                self._tell(TabStateChanged(tab.tab_id, tab.state))
            case SessionClosed(by):
                self._closed_elsewhere(tab, by)
            case Notice(text):
                self._tell(TabNotice(tab.tab_id, text))

    # the other devices on the session (docs/protocol.md §5) --------------------------------------

    def _turn(self, tab: ChatTab, turn: Turn) -> None:
        """Another device's message: shown at once, marked with that device; its reply streams
        as any reply does. This device's own (sent by `builderos send`, say) is unmarked."""
        if self._find(tab, turn.msg_id) is not None:
            return
        device = None if turn.device.device_id == self.device_id else turn.device.label
        message = StoredMessage(
            turn.msg_id,
            "user",
            turn.text,
            "acknowledged",
            turn.timestamp or _now(),
            attachments=turn.attachments,
            device=device,
        )
        tab.closed_by = None
        self._add(tab, message)
        if tab.tab_id != self.selected_id:
            tab.unread = True
            self._tell(TabActivity(tab.tab_id))

    def refreshable(self, tab_id: str) -> bool:
        """The tab's server keeps a session history but has no sync: other devices' turns
        reach it only when it asks (`absorb`)."""
        tab = self.tab(tab_id)
        protocol = tab.connection.protocol if tab and tab.connection else None
        return (
            protocol is not None
            and tab is not None
            and tab.state.phase is Phase.CONNECTED
            and protocol.delivery
            and bool(protocol.features.get("session_history"))
            and not protocol.sync
        )

    def absorb(self, tab_id: str, history: list[StoredMessage]) -> int:
        """The server's recent history of the tab's session (a server without sync): the
        messages this tab does not have (another device's turns and their replies) are added
        at the end, in the server's order. Nothing is taken while a reply is being written
        (its own frames bring it). Returns how many were added."""
        tab = self.tab(tab_id)
        if tab is None or tab.replying or (tab.connection and tab.connection.protocol.awaiting):
            return 0
        added = 0
        for message in history:
            if message.role not in ("user", "assistant") or self._is_ours(tab, message.msg_id):
                continue
            self._add(tab, message)
            added += 1
        if added and tab.tab_id != self.selected_id:
            tab.unread = True
            self._tell(TabActivity(tab.tab_id))
        return added

    def _closed_elsewhere(self, tab: ChatTab, by: str) -> None:
        """The session was closed on another device: the tab says so; a message sent from
        here continues it (the server opens it again)."""
        if by == self.device_id:
            return  # this device closed it (in another tab or app)
        named = next((d.label for d in tab.devices if d.device_id == by), None)
        tab.closed_by = named or (short_id(by) if by != "unknown" else "another device")
        self._tell(TabStateChanged(tab.tab_id, tab.state))
        self._tell(
            TabNotice(
                tab.tab_id,
                f"{tab.title}: the session was closed on {tab.closed_by}. Send a message to "
                "continue it here.",
                "information",
            )
        )

    def _save(self, write: Callable[[], T], tab_id: str | None) -> T | None:
        """Write to the local history; a failure is shown, and nothing on screen is lost.
        Total: whatever a write raises is reported here, so the state changed before it (the
        reply shown, the frame number taken) stays, and the next frame is handled as usual.
        Returns what the write returned (None: it failed)."""
        try:
            return write()
        except StoreError as exc:
            log.error("%s", exc)
            self._tell(TabNotice(tab_id, f"Not saved: {exc}", "error"))
        except Exception as exc:
            log.exception("saving to the history failed")
            self._tell(TabNotice(tab_id, f"Not saved ({type(exc).__name__}): {exc}", "error"))
        return None

    def _is_ours(self, tab: ChatTab, msg_id: str) -> bool:
        """A message id the server names is one this tab sent (in memory or in its history):
        a reply to any other id is reported by the protocol, not stored."""
        if self._find(tab, msg_id) is not None:
            return True
        try:
            return self.store.has_message(tab.session_id, msg_id)
        except StoreError:
            return True  # cannot tell: better shown than lost
