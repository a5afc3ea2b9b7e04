"""One tab's chat: the message log, the live reply, the status line and the composer.

The tab model (tui.workspace.ChatTab) is the truth; `sync()` brings the screen up to it and is
idempotent. A visible view syncs on every change; a hidden one only notes that it is stale
(refreshing widgets in a hidden pane rebuilds the layout map each time) and catches up in one
pass when shown. The reply being written is the only Textual Markdown widget, fed through a
MarkdownStream; once complete it is replaced by a one-widget block rendered from the full text,
so the final render is exact.
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Markdown, Static
from textual.widgets._markdown import MarkdownStream

from tui.client.frames import DISPLAY_NAMES
from tui.widgets.composer import Composer
from tui.widgets.message_block import STATUS_NOTES, MessageBlock
from tui.workspace import Change, ChatTab, LiveChunk, MessageChanged, Workspace


class TabChanged(Message):
    """A workspace change for this view's tab (posted by the app)."""

    def __init__(self, change: Change) -> None:
        super().__init__()
        self.change = change


class ChatView(Vertical):
    def __init__(self, workspace: Workspace, tab: ChatTab, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.workspace = workspace
        self.tab = tab
        self.agent_name = "Jarvis" if tab.provider == "claude" else DISPLAY_NAMES[tab.provider]
        self.active = False
        self._blocks: dict[str, MessageBlock] = {}
        self._rendered = 0
        self._live: Markdown | None = None
        self._stream: MarkdownStream | None = None
        self._live_len = 0
        self._status_text = ""

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
            await self.sync()  # hidden views render when first shown

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
        change = message.change
        if isinstance(change, MessageChanged):
            block = self._blocks.get(change.message.msg_id)
            if block is not None and self.active:
                block.refresh_message()
                return
        if not self.active:
            return
        if isinstance(change, LiveChunk) and self._stream is not None:
            await self._write_live()
            return
        await self.sync()

    async def sync(self) -> None:
        """Mount what is new, refresh what changed, bring the live reply up to date."""
        tab = self.tab
        new = tab.messages[self._rendered :]
        if tab.live is None:
            await self._end_live_widget()  # a finished reply is replaced by its block below
        if new:
            blocks = [MessageBlock(m, self.agent_name) for m in new]
            self._blocks.update((b.message.msg_id, b) for b in blocks)
            # in stored order: sent while a reply streams, a message goes above that reply
            await self.log.mount_all(blocks, before=self._live)
            self._rendered = len(tab.messages)
        for block in self._blocks.values():
            if block.border_subtitle != STATUS_NOTES.get(block.message.status, ""):
                block.refresh_message()
        if tab.live is not None:
            if self._live is None:
                self._live = Markdown("", classes="message assistant live")
                self._live.border_title = f"{self.agent_name} · writing…"
                await self.log.mount(self._live)
                self._stream = Markdown.get_stream(self._live)
                self._live_len = 0
            await self._write_live()
        self._update_earlier()
        self.update_status()

    async def _write_live(self) -> None:
        text = self.tab.live or ""
        if self._stream is not None and len(text) > self._live_len:
            await self._stream.write(text[self._live_len :])
            self._live_len = len(text)

    async def _end_live_widget(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if self._live is not None:
            await self._live.remove()
            self._live = None
            self._live_len = 0

    def _update_earlier(self) -> None:
        earlier = self.query_one("#earlier", Static)
        count = self.tab.earlier
        earlier.display = count > 0
        if count:
            earlier.update(
                f"▲ {count:,} earlier message{'s' if count != 1 else ''} — F3 loads more"
            )

    async def load_earlier(self) -> int:
        older = self.workspace.load_earlier(self.tab.tab_id)
        if older:
            blocks = [MessageBlock(m, self.agent_name) for m in older]
            self._blocks.update((b.message.msg_id, b) for b in blocks)
            await self.log.mount_all(blocks, after=self.query_one("#earlier"))
            self._rendered += len(older)
        self._update_earlier()
        return len(older)

    def update_status(self) -> None:
        """The status line: connection state (with countdown) and whether a reply is coming."""
        if not self.is_mounted:
            return
        tab = self.tab
        label = tab.state.label(time.monotonic())
        working = " · working…" if tab.waiting else ""
        pending = sum(1 for m in tab.messages[-20:] if m.status == "pending")
        queued = f" · {pending} waiting to send" if pending else ""
        text = f"{tab.state.icon} {label}{working}{queued}"
        if text != self._status_text:
            self._status_text = text
            status = self.query_one("#status", Static)
            status.update(text)
            status.set_class(tab.state.phase.value in ("unreachable", "auth_failed"), "-problem")
