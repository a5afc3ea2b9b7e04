"""The reply being written: finished blocks frozen into cheap widgets, only the tail live.

A Textual Markdown widget is a tree with a widget per block, so a growing reply in one such
widget makes every update slower. Here the live widget never holds much more than LIVE_LIMIT
characters: once it does, its finished blocks move into a Static rendered once by Rich, and the
stream restarts on the tail. Once complete, the tail is rendered again from the exact final text
(a streamed last block can be left wrong), and a long reply keeps its frozen parts as its block.
"""

from __future__ import annotations

import asyncio

from rich.markdown import Markdown as RichMarkdown
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.widgets import Markdown, Static
from textual.widgets._markdown import MarkdownStream

from tui.markdown_split import safe_cut
from tui.store import StoredMessage
from tui.widgets.message_block import STATUS_NOTES, MessageBlock

LIVE_LIMIT = 4000
"""Characters the live Markdown widget may hold before its finished blocks are frozen."""
KEEP_TAIL = 500
"""Characters always left live: the last block may still be growing."""


class FrozenPart(Static):
    """Finished Markdown that never changes: its height is measured once per width.

    (Textual remembers one width; a layout that alternates widths, as when a scrollbar comes
    and goes, would otherwise re-render the whole part on every pass.)
    """

    def __init__(self, text: str) -> None:
        super().__init__(RichMarkdown(text, code_theme="monokai"), classes="part")
        self._heights: dict[int, int] = {}

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().get_content_height(container, viewport, width)
        return height


def _pieces(text: str) -> list[str]:
    """Cut frozen text into parts of about LIVE_LIMIT, so painting touches only what is visible
    (a catch-up can freeze a whole long reply at once)."""
    pieces = []
    while len(text) > LIVE_LIMIT and (cut := safe_cut(text, LIVE_LIMIT)):
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text] if text else pieces


class StreamedReply(Vertical):
    def __init__(self, agent_name: str) -> None:
        super().__init__(classes="message assistant live")
        self.agent_name = agent_name
        self.border_title = f"{agent_name} · writing…"
        self.message: StoredMessage | None = None
        """Set once the reply is finished and this widget stays as its block."""
        self._live = Markdown(classes="tail")
        self._stream: MarkdownStream | None = None
        self._start = 0
        """Offset in the reply where the live widget's text begins."""
        self._written = 0
        """Offset up to which the reply has been handed to the live widget."""
        self.frozen = 0

    def compose(self) -> ComposeResult:
        yield self._live

    @property
    def shown(self) -> int:
        return self._written

    async def show(self, text: str) -> None:
        """Bring the screen up to `text`, the whole reply so far."""
        pending = len(text) - self._start
        if pending > LIVE_LIMIT:
            cut = safe_cut(text[self._start :], pending - KEEP_TAIL)
            if cut:
                await self._freeze(text, cut)
                return
        self._written = max(self._written, self._start)
        if len(text) > self._written:
            if self._stream is None:
                self._stream = Markdown.get_stream(self._live)
            await self._stream.write(text[self._written :])
            self._written = len(text)

    async def _freeze(self, text: str, cut: int) -> None:
        """Move the first `cut` live characters into a Static; a fresh live widget takes the
        rest. (A fresh widget, not `Markdown.update`: updating the widget a stream has just
        stopped writing to can deadlock.)"""
        await self.stop()
        old = self._live
        self._live = Markdown(classes="tail")
        parts = [FrozenPart(piece) for piece in _pieces(text[self._start : self._start + cut])]
        newest, older = parts[-1:], parts[:-1]
        await self.mount_all(newest, before=old)
        await self.mount(self._live, after=old)
        await old.remove()
        if older:  # a catch-up: what is visible (the bottom) first, the rest after this paint
            self.call_after_refresh(self._mount_older, older, newest[0])
        self.frozen += len(parts)
        self._start += cut
        self._stream = Markdown.get_stream(self._live)
        await self._stream.write(text[self._start :])
        self._written = len(text)

    async def _mount_older(self, parts: list[FrozenPart], before: FrozenPart) -> None:
        if self.is_attached and before.is_attached:
            await self.mount_all(parts, before=before)

    async def on_unmount(self) -> None:
        await self.stop()

    async def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            await stream.stop()
        except asyncio.CancelledError:
            # a stream stopped before its task ever ran re-raises the cancel it was given
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise

    async def finish(self, message: StoredMessage) -> None:
        """Become the finished reply's block: the tail re-rendered from the exact text."""
        await self.stop()
        await self._live.remove()
        tail = message.text[self._start :]
        if tail:
            await self.mount(FrozenPart(tail))
        self.message = message
        self.refresh_message()

    def refresh_message(self) -> None:
        if self.message is not None:
            self.set_classes(f"message assistant {self.message.status}")
            self.border_title = self.agent_name
            self.border_subtitle = STATUS_NOTES.get(self.message.status, "")

    def on_click(self) -> None:
        if self.message is not None:
            self.post_message(MessageBlock.CopyRequested(self.message.text))
