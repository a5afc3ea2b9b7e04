"""One tab's chat: the conversation, the status line and the composer.

The tab model (tui.model.workspace.ChatTab) is the truth; a sync brings the screen up to it and is
idempotent. A visible view syncs on every change; a hidden one only notes that it is stale
and catches up in one pass when shown. Everything that changes the view arrives as a message
and runs in the view's own message queue, one at a time: the view has one writer. The whole
conversation is one Line-API widget (widgets/conversation/): a streaming reply costs a tail
render per frame, never a layout of the screen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from tui.client.frames import DISPLAY_NAMES
from tui.client.inert import inert_line
from tui.client.state import Phase
from tui.model.attachment_tray import AttachmentTray, mentioned
from tui.model.find import Find
from tui.model.updates import Outstanding
from tui.model.workspace import (
    REFRESH_EVERY,
    ActivityChanged,
    Change,
    ChatTab,
    LiveChunk,
    LiveEnded,
    MessageChanged,
    Workspace,
)
from tui.widgets.attach_dialog import AttachFile
from tui.widgets.attachment_chips import AttachmentChips, Chip
from tui.widgets.composer import Composer
from tui.widgets.conversation import ConversationLog, DisplayOptions
from tui.widgets.find_bar import FindBar

log = logging.getLogger(__name__)


class TabChanged(Message):
    """A workspace change for this view's tab (posted by the app)."""

    def __init__(self, change: Change) -> None:
        super().__init__()
        self.change = change


class Shown(Message):
    """The view became the visible one: catch up with what it buffered while hidden."""


class Working(Message):
    """What the agent is doing in this view's tab changed: its label says it too."""

    def __init__(self, tab_id: str) -> None:
        super().__init__()
        self.tab_id = tab_id


class LoadEarlier(Message):
    """Page in earlier history (F3)."""


class Reveal(Message):
    """Show this message (a search result), with `term` found in the tab."""

    def __init__(self, msg_id: str, row: int, term: str) -> None:
        super().__init__()
        self.msg_id, self.row, self.term = msg_id, row, term


ViewUpdate = TabChanged | Shown | LoadEarlier | Reveal
STATUS_EVERY = 0.5
"""Seconds between redraws of the status line while the agent works."""
CHIPS_EVERY = 0.1
"""Seconds between redraws of the chips while files upload."""


class ChatView(Vertical):
    def __init__(
        self,
        workspace: Workspace,
        tab: ChatTab,
        updates: Outstanding,
        *,
        options: DisplayOptions | None = None,
        id: str | None = None,
    ) -> None:
        """`options`: what every conversation shows (the app's; F9 toggles the times)."""
        super().__init__(id=id)
        self.options = options or DisplayOptions()
        self.workspace = workspace
        self.tab = tab
        self.updates = updates
        self.agent_name = "Jarvis" if tab.provider == "claude" else DISPLAY_NAMES[tab.provider]
        self.active = False
        self._status_text = ""
        self._status_due = False
        """The status line is to be drawn again shortly (`_status_soon`)."""
        self._doing: str | None = None
        """The call the tab's label last said the agent was doing."""
        self._chunk_pending = False
        """A live-chunk update is queued for this view, or a frame is due that will read the
        reply as it is then: no other is queued (`chunk_arrived`)."""
        self._streaming_for: str | None = None
        """The reply the conversation is painting as it streams."""
        self._find: Find | None = None
        """What ctrl+f found, while the find bar is open."""
        self.tray = AttachmentTray(
            workspace.base_url,
            workspace.token,
            on_change=self._tray_changed,
            restored=tab.draft_attachments,
        )
        """The files attached to the message being written."""
        self._chips_due = False
        self._send_when_uploaded = False
        """Enter was pressed while files were uploading: the message goes once they are."""

    def compose(self) -> ComposeResult:
        yield Static("", id="earlier")
        yield ConversationLog(
            self.agent_name, live_text=self._take_live, options=self.options, id="log"
        )
        bar = FindBar(id="find")
        bar.display = False
        yield bar
        yield Static("", id="status", markup=False)
        chips = AttachmentChips(id="chips")
        chips.display = False
        yield chips
        yield Composer(self.tab.draft, sent=self._sent, id="composer")

    @property
    def log(self) -> ConversationLog:  # type: ignore[override]
        return self.query_one(ConversationLog)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    async def on_mount(self) -> None:
        if self.tray:
            await self._draw_chips()
        if self.active:
            await self._sync()  # hidden views render when first shown

    def on_unmount(self) -> None:
        self.updates.forget(self)
        self.tray.cancel()

    def chunk_arrived(self, change: LiveChunk | ActivityChanged) -> None:
        """A piece of the reply (or of the agent's work on it) came. The view draws the whole
        reply so far, so one queued update covers any burst: another is queued only once this
        one is read."""
        if not self._chunk_pending:
            self._chunk_pending = True
            self.enqueue(TabChanged(change))

    def enqueue(self, message: ViewUpdate) -> None:
        """Queue an update; `ChatApp.settled()` waits until it is drawn."""
        if self.post_message(message):
            self.updates.posted(self)

    # the user types ----------------------------------------------------------------------------

    def on_composer_submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        for path in mentioned(event.text):  # `@notes.txt` attaches the file
            if self.tray.wants(path):
                self.tray.add(path)
        self._send_when_uploaded = True
        self._send_if_ready()

    def _send_if_ready(self) -> None:
        """Send what the composer holds, with its files, unless one is still uploading (then
        once it is) or failed (then not: the user decides)."""
        tray = self.tray
        if not self._send_when_uploaded or tray.uploading:
            self.update_status()  # "sends once uploaded"
            return
        self._send_when_uploaded = False
        if failed := tray.failed:
            names = ", ".join(item.name for item in failed)
            self.notify(
                f"Not sent: {names} is not attached. Click its chip to try again; ✕ (or "
                "Backspace in an empty composer) takes it off.",
                severity="warning",
                timeout=10,
            )
            self.update_status()
            return
        text = self.composer.text.rstrip()
        if not text.strip():
            return  # emptied while the files uploaded
        self.workspace.send(self.tab.tab_id, text, tray.ready)
        tray.clear()
        self.composer.clear()
        self.log.to_newest()  # you see what you sent, and the reply to it

    # attachments -------------------------------------------------------------------------------

    def open_attach(self) -> None:
        """ctrl+t: pick a file to attach."""

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.tray.add(path)
            self.composer.focus()

        self.app.push_screen(AttachFile(Path.cwd()), chosen)

    def on_composer_pasted_file(self, event: Composer.PastedFile) -> None:
        event.stop()
        if not self.tray.attached(event.path):
            self.tray.add(event.path)
            self.notify(f"Attached {event.path.name} (its path was pasted).", timeout=4)

    def on_composer_backspace_when_empty(self, event: Composer.BackspaceWhenEmpty) -> None:
        event.stop()
        self.tray.remove_last()

    def on_chip_remove(self, event: Chip.Remove) -> None:
        event.stop()
        self.tray.remove(event.key)

    def on_chip_retry(self, event: Chip.Retry) -> None:
        event.stop()
        self.tray.retry(event.key)

    def _tray_changed(self) -> None:
        """Called by the tray (on every change, progress included): keep the draft's files,
        redraw the chips at most every CHIPS_EVERY, send once the uploads are done."""
        self.workspace.set_draft_attachments(self.tab.tab_id, self.tray.ready)
        if not self._chips_due:
            self._chips_due = True
            self.set_timer(CHIPS_EVERY, self._draw_chips)
        if self._send_when_uploaded and not self.tray.uploading:
            self.call_later(self._send_if_ready)

    async def _draw_chips(self) -> None:
        self._chips_due = False
        if self.is_attached:
            await self.query_one(AttachmentChips).show(self.tray.items)

    def _sent(self) -> list[str]:
        """The messages sent in this tab (those loaded), newest first, without repeats in a
        row."""
        sent: list[str] = []
        for message in reversed(self.tab.messages):
            if message.role == "user" and (not sent or sent[-1] != message.text):
                sent.append(message.text)
        return sent

    def choose_work(self, direction: int) -> bool:
        """alt+up / alt+down: choose a tool call of this tab; False if it has none."""
        found = self.log.choose_work(direction)
        self.update_status()
        return found

    def on_composer_enter_when_empty(self, event: Composer.EnterWhenEmpty) -> None:
        event.stop()
        self.log.toggle_chosen()

    def on_composer_to_newest(self, event: Composer.ToNewest) -> None:
        event.stop()
        self.log.to_newest()

    def on_conversation_log_following(self, event: ConversationLog.Following) -> None:
        event.stop()
        self.update_status()

    def on_click(self, event: events.Click) -> None:
        if event.widget is not None and event.widget.id == "status" and not self.log.follow:
            self.log.to_newest()  # "▼ new text below" was clicked

    def on_text_area_changed(self, event: Composer.Changed) -> None:
        event.stop()
        self.workspace.set_draft(self.tab.tab_id, event.text_area.text)

    # keeping the screen in step with the model -----------------------------------------------

    async def on_tab_changed(self, message: TabChanged) -> None:
        await self._drawing(self._apply(message.change))

    async def on_shown(self, message: Shown) -> None:
        await self._drawing(self._sync())

    async def on_load_earlier(self, message: LoadEarlier) -> None:
        await self._drawing(self._load_earlier())

    async def on_reveal(self, message: Reveal) -> None:
        await self._drawing(self._reveal(message))

    # find in the tab -------------------------------------------------------------------------

    def open_find(self) -> None:
        """ctrl+f: the find bar, with what was found last still found; pressed again in the
        bar, the older match."""
        bar = self.query_one(FindBar)
        if bar.display and bar.input.has_focus:
            bar.action_step(-1)
        else:
            bar.open()

    def on_find_bar_changed(self, event: FindBar.Changed) -> None:
        event.stop()
        self._find_term(event.term)
        if self._find is not None and (hit := self._find.current) is not None:
            self._go_to(hit.msg_id, hit.row, hit.occurrence)

    def on_find_bar_step(self, event: FindBar.Step) -> None:
        event.stop()
        if self._find is not None and (hit := self._find.step(event.delta)) is not None:
            self._go_to(hit.msg_id, hit.row, hit.occurrence)
            self.query_one(FindBar).show_count(self._find.summary)

    def on_find_bar_closed(self, event: FindBar.Closed) -> None:
        event.stop()
        self._find = None
        self.log.mark(None)
        self.composer.focus()

    def _find_term(self, term: str) -> None:
        self._find = self.workspace.find(self.tab.tab_id, term) if term else None
        self.log.mark(term or None)
        self.query_one(FindBar).show_count(self._find.summary if self._find else "")

    def _go_to(self, msg_id: str, row: int, occurrence: int) -> None:
        """Scroll to the message, loading the history down to it if it is not loaded."""
        older = self.workspace.load_through(self.tab.tab_id, row)
        if older:
            self.log.add(older, at_top=True)
            self._update_earlier()
        self.log.reveal(msg_id, occurrence)

    async def _reveal(self, message: Reveal) -> None:
        self.query_one(FindBar).open(message.term)
        self._find_term(message.term)
        hit = self._find.go_to(message.msg_id) if self._find else None
        self._go_to(message.msg_id, message.row, hit.occurrence if hit else 0)
        if self._find is not None:
            self.query_one(FindBar).show_count(self._find.summary)

    async def _drawing(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:  # a drawing bug must not take the app (and the chat) down
            log.exception("could not draw a change in tab %s", self.tab.title)
            self.notify(f"Display error ({exc}); the chat is safe on disk.", severity="error")
        finally:
            self.updates.handled(self)

    def _take_live(self) -> str | None:
        """The reply being written, read by the conversation's frame, its work handed to the
        live entry on the way; a chunk (or tool call) arriving from now on queues a new update.
        None if the tab has moved on to another reply (the updates for that are queued)."""
        self._chunk_pending = False
        tab = self.tab
        if tab.live_for != self._streaming_for:
            return None
        live = self.log.live
        if live is not None and tab.reply.activity is not live.live_activity:
            live.work_changed(tab.reply.activity)  # (a new value each time it changes)
            self._status_soon()  # "⋯ Run pytest -q"
        return tab.live

    def _status_soon(self) -> None:
        """Say what the agent is doing, at most STATUS_EVERY: a new status line is laid out
        again, which cost a fifth of a busy agent's reply when it followed every frame."""
        if not self._status_due:
            self._status_due = True
            self.set_timer(STATUS_EVERY, self._status_now)

    def _status_now(self) -> None:
        self._status_due = False
        self.update_status()
        doing = self.tab.doing
        title = doing.title if doing is not None else None
        if title != self._doing:  # the tab's label says it too ("⋯ Run pytest -q")
            self._doing = title
            self.post_message(Working(self.tab.tab_id))

    def _stream(self) -> None:
        """Paint the reply being written, now or at the next frame (which reads it then)."""
        self._streaming_for = self.tab.live_for
        if self.tab.live is not None:
            starting = self.log.live is None
            self.log.stream(self.tab.live)
            if starting:
                self.update_status()  # "replying…"

    async def _apply(self, change: Change) -> None:
        if not self.active:
            self._chunk_pending = False  # hidden: the view catches up when shown
            return
        conversation = self.log
        if isinstance(change, LiveChunk | ActivityChanged):
            self._stream()  # else it has ended: LiveEnded follows
            return
        if isinstance(change, MessageChanged):
            conversation.changed(change.message)
            self.update_status()
            return
        ended = change.message if isinstance(change, LiveEnded) else None
        if ended is not None and not conversation.shows(ended):
            conversation.end_live(ended)  # the live reply becomes it, in place
        await self._sync()

    @property
    def live_shown(self) -> int:
        """How much of the reply being written is painted (benchmarks and tests look)."""
        return self.log.shown

    async def _sync(self) -> None:
        """Add what is new, redraw what changed, bring the live reply up to date."""
        tab, conversation = self.tab, self.log
        if tab.live is None and conversation.live is not None:  # it ended while hidden
            conversation.end_live(None)
        conversation.reconcile(tab.messages)
        self._chunk_pending = False
        self._stream()
        self._update_earlier()
        self.update_status()

    def _update_earlier(self) -> None:
        earlier = self.query_one("#earlier", Static)
        count = self.tab.earlier
        earlier.display = count > 0
        if count:
            earlier.update(
                f"▲ {count:,} earlier message{'s' if count != 1 else ''} — F3 loads more"
            )

    async def _load_earlier(self) -> None:
        older = self.workspace.load_earlier(self.tab.tab_id)
        if older:
            self.log.add(older, at_top=True)
        self._update_earlier()
        count = len(older)
        self.notify(
            f"Loaded {count} earlier message{'s' if count != 1 else ''}."
            if count
            else "No earlier messages."
        )

    def update_status(self) -> None:
        """The status line: connection state (with countdown) and whether a reply is coming."""
        statuses = self.query("#status")
        if not self.is_mounted or not statuses:
            return  # not composed yet, or being torn down
        tab = self.tab
        label = tab.state.label(time.monotonic())
        connected = tab.state.phase is Phase.CONNECTED
        doing = tab.doing
        if doing is not None and connected:
            working = f" · ⋯ {inert_line(doing.title)[:60]}"
        elif tab.replying and connected:
            working = " · replying…"
        elif tab.replying or tab.waiting:  # only ever said while it can be true
            working = (
                " · waiting for the reply" if connected else " · the reply goes on once connected"
            )
        else:
            working = ""
        recent = tab.messages[-20:]
        pending = sum(1 for m in recent if m.status == "pending")
        queued = f" · {pending} queued" if pending else ""
        unsure = sum(1 for m in recent if m.status == "not_confirmed")
        unconfirmed = f" · {unsure} not confirmed (ctrl+r)" if unsure else ""
        below = " · ▼ new text below (End)" if not self.log.follow and tab.live is not None else ""
        if self.workspace.refreshable(tab.tab_id):
            queued += f" · other devices' turns: looked for every {REFRESH_EVERY} s"
        if tab.closed_by is not None:
            queued += f" · closed on {tab.closed_by}: a message continues it"
        elif tab.devices and connected:
            names = ", ".join(d.label for d in tab.devices[:3])
            more = f" +{len(tab.devices) - 3}" if len(tab.devices) > 3 else ""
            queued += f" · also open on {names}{more}"
        if self.log.chosen is not None:
            below += " · tool call chosen: Enter shows it (alt+↑/↓)"
        uploads = self.tray.uploading
        if uploads and self._send_when_uploaded:
            working += f" · sends once {uploads} upload{'s' if uploads != 1 else ''} finish"
        text = f"{tab.state.icon} {label}{working}{queued}{unconfirmed}{below}"
        if text != self._status_text:
            self._status_text = text
            status = statuses.first(Static)
            status.update(inert_line(text))  # it quotes what the server said
            status.set_class(tab.state.phase.value in ("unreachable", "auth_failed"), "-problem")
