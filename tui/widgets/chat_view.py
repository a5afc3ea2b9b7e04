"""One tab's chat: the message log, the live reply, the status line and the composer.

The tab model (tui.workspace.ChatTab) is the truth; a sync brings the screen up to it and is
idempotent. A visible view syncs on every change; a hidden one only notes that it is stale
(refreshing widgets in a hidden pane rebuilds the layout map each time) and catches up in one
pass when shown. Everything that changes the view arrives as a message and runs in the view's
own message queue, one at a time: the view has one writer, so no two passes interleave.
The reply being written is the only Textual Markdown widget, fed through a
MarkdownStream; once complete it is replaced by a one-widget block rendered from the full text,
so the final render is exact.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Coroutine
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from tui.client.frames import DISPLAY_NAMES
from tui.store import StoredMessage
from tui.updates import Outstanding
from tui.widgets.composer import Composer
from tui.widgets.message_block import STATUS_NOTES, MessageBlock
from tui.widgets.streamed_reply import StreamedReply
from tui.workspace import Change, ChatTab, LiveChunk, LiveEnded, MessageChanged, Workspace

log = logging.getLogger(__name__)


class TabChanged(Message):
    """A workspace change for this view's tab (posted by the app)."""

    def __init__(self, change: Change) -> None:
        super().__init__()
        self.change = change


class Shown(Message):
    """The view became the visible one: catch up with what it buffered while hidden."""


class LoadEarlier(Message):
    """Page in earlier history (F3)."""


ViewUpdate = TabChanged | Shown | LoadEarlier


class ChatView(Vertical):
    def __init__(
        self, workspace: Workspace, tab: ChatTab, updates: Outstanding, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.workspace = workspace
        self.tab = tab
        self.updates = updates
        self.agent_name = "Jarvis" if tab.provider == "claude" else DISPLAY_NAMES[tab.provider]
        self.active = False
        self._blocks: dict[str, MessageBlock | StreamedReply] = {}
        self._rendered = 0
        self._live: StreamedReply | None = None
        self._status_text = ""
        self.chunk_pending = False
        """A live-chunk update is queued for this view (the app posts at most one)."""

    def compose(self) -> ComposeResult:
        yield VerticalScroll(Static("", id="earlier"), id="log")
        yield Static("", id="status")
        yield Composer(self.tab.draft, id="composer")

    @property
    def log(self) -> VerticalScroll:  # type: ignore[override]
        return self.query_one("#log", VerticalScroll)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    async def on_mount(self) -> None:
        self.log.anchor()
        if self.active:
            await self._sync()  # hidden views render when first shown

    def on_unmount(self) -> None:
        self.updates.forget(self)

    def enqueue(self, message: ViewUpdate) -> None:
        """Queue an update; `ChatApp.settled()` waits until it is drawn."""
        if self.post_message(message):
            self.updates.posted(self)

    # the user types ----------------------------------------------------------------------------

    def on_composer_submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        self.workspace.send(self.tab.tab_id, event.text.rstrip())
        self.composer.clear()

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

    async def _drawing(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:  # a drawing bug must not take the app (and the chat) down
            log.exception("could not draw a change in tab %s", self.tab.title)
            self.notify(f"Display error ({exc}); the chat is safe on disk.", severity="error")
        finally:
            self.updates.handled(self)

    async def _apply(self, change: Change) -> None:
        if isinstance(change, LiveChunk):
            self.chunk_pending = False  # chunks arriving from now on queue a new update
        if isinstance(change, MessageChanged):
            block = self._blocks.get(change.message.msg_id)
            if block is not None and self.active:
                block.refresh_message()
                return
        if not self.active:
            return
        if isinstance(change, LiveChunk) and self._live is not None:
            if self.tab.live is not None:  # else it has ended: LiveEnded follows
                await self._live.show(self.tab.live)
            return
        if isinstance(change, LiveEnded) and self._live is not None and change.message:
            await self._finish_live(change.message)
        await self._sync()

    @property
    def live_shown(self) -> int:
        """How much of the reply being written is on screen (benchmarks and tests look)."""
        return self._live.shown if self._live is not None else 0

    async def _finish_live(self, message: StoredMessage) -> None:
        """A long streamed reply keeps its frozen parts as its block; a short one is swapped
        for a one-widget block (sync mounts it)."""
        live, self._live = self._live, None
        assert live is not None
        tab = self.tab
        adoptable = live.frozen and tab.messages[self._rendered :] == [message]
        if adoptable:
            await live.finish(message)
            self._blocks[message.msg_id] = live
            self._rendered = len(tab.messages)
        else:
            await self._drop_live(live)

    async def _drop_live(self, live: StreamedReply) -> None:
        if self._live is live:
            self._live = None
        await live.stop()
        await live.remove()

    async def _sync(self) -> None:
        """Mount what is new, refresh what changed, bring the live reply up to date."""
        tab = self.tab
        if tab.live is None and self._live is not None:  # it ended while this tab was hidden
            await self._drop_live(self._live)
        new = tab.messages[self._rendered :]
        if new:
            blocks = [MessageBlock(m, self.agent_name) for m in new]
            self._blocks.update((b.message.msg_id, b) for b in blocks)
            # in stored order: sent while a reply streams, a message goes above that reply
            await self.log.mount_all(blocks, before=self._live)
            self._rendered = len(tab.messages)
        for block in self._blocks.values():
            if block.message and block.border_subtitle != STATUS_NOTES.get(
                block.message.status, ""
            ):
                block.refresh_message()
        if tab.live is not None and self._live is None:
            self._live = StreamedReply(self.agent_name)
            await self.log.mount(self._live)
        if self._live is not None and tab.live is not None:  # re-read: mounting awaited
            await self._live.show(tab.live)
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
            blocks = [MessageBlock(m, self.agent_name) for m in older]
            self._blocks.update((b.message.msg_id, b) for b in blocks)
            await self.log.mount_all(blocks, after=self.query_one("#earlier"))
            self._rendered += len(older)
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
        if tab.live is not None:
            working = " · replying…"
        else:
            working = " · waiting for the reply" if tab.waiting else ""
        recent = tab.messages[-20:]
        pending = sum(1 for m in recent if m.status == "pending")
        queued = f" · {pending} queued" if pending else ""
        unsure = sum(1 for m in recent if m.status == "not_confirmed")
        unconfirmed = f" · {unsure} not confirmed (ctrl+r)" if unsure else ""
        text = f"{tab.state.icon} {label}{working}{queued}{unconfirmed}"
        if text != self._status_text:
            self._status_text = text
            status = statuses.first(Static)
            status.update(text)
            status.set_class(tab.state.phase.value in ("unreachable", "auth_failed"), "-problem")
