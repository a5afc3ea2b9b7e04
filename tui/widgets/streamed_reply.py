"""The reply being written: finished blocks frozen into cheap widgets, only the tail live.

A Textual Markdown widget is a tree with a widget per block, so a growing reply in one such
widget makes every update slower. Here the live widget never holds much more than LIVE_LIMIT
characters: once it does, its finished blocks move into one FrozenText widget rendered by Rich,
and the stream restarts on the tail. Once complete, the tail is rendered again from the exact
final text (a streamed last block can be left wrong), and a long reply keeps its frozen parts as
its block.
"""

from __future__ import annotations

import asyncio
import contextlib

from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import MountError, Widget
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

from tui.markdown_split import safe_cut
from tui.store import StoredMessage
from tui.widgets.message_block import STATUS_NOTES, MessageBlock

LIVE_LIMIT = 2000
"""Characters the live Markdown widget may hold before its finished blocks are frozen."""
KEEP_TAIL = 500
"""Characters always left live: the last block may still be growing."""


class FrozenText(Widget):
    """The finished Markdown of one reply, however long, as one widget (Line API).

    Screen updates slow with the number of widgets, so the frozen parts share one widget.
    Each part is rendered by Rich once per width and kept as strips: that one rendering gives
    both the height and the lines (a Static renders twice, once to measure). Adding a part
    renders only that part. A few widths are kept, because a layout can alternate widths as a
    scrollbar comes and goes.
    """

    DEFAULT_CSS = "FrozenText { height: auto; }"
    WIDTHS_KEPT = 3

    def __init__(self) -> None:
        super().__init__(classes="part")
        self._parts: list[RichMarkdown] = []
        self._lines: dict[int, tuple[int, list[Strip]]] = {}
        """Per width: how many parts are rendered, and their lines."""

    @property
    def parts(self) -> int:
        return len(self._parts)

    def add(self, texts: list[str]) -> None:
        self._parts.extend(RichMarkdown(text, code_theme="monokai") for text in texts)
        self.refresh(layout=True)

    def lines(self, width: int) -> list[Strip]:
        cached = self._lines.pop(width, None)  # popped and put back: least recently used first
        if cached is None and len(self._lines) >= self.WIDTHS_KEPT:
            del self._lines[next(iter(self._lines))]
        done, strips = cached or (0, [])
        if done < len(self._parts):  # this runs for every painted line: render only what is new
            console = self.app.console
            options = self.app.console_options.update(width=width, height=None, highlight=False)
            for part in self._parts[done:]:
                segments = console.render(part, options)
                strips.extend(
                    Strip(line, width)
                    for line in Segment.split_and_crop_lines(
                        segments, width, include_new_lines=False, pad=True
                    )
                )
        self._lines[width] = (len(self._parts), strips)
        return strips

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        strips = self.lines(width)
        line = strips[y] if y < len(strips) else Strip.blank(width)
        return line.apply_style(self.rich_style)


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
        self._frozen: FrozenText | None = None

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
            fragment, self._written = text[self._written :], len(text)  # before the await
            await self._stream.write(fragment)

    async def _freeze(self, text: str, cut: int) -> None:
        """Move the first `cut` live characters into the frozen text; a fresh live widget takes
        the rest. (A fresh widget, not `Markdown.update`: updating the widget a stream has just
        stopped writing to can deadlock.)"""
        frozen, start = text[self._start : self._start + cut], self._start + cut
        self._start, self._written = start, len(text)  # before the awaits: `shown` is exact
        await self.stop()
        old = self._live
        self._live = Markdown(classes="tail")
        (await self._frozen_text()).add([frozen])
        await self.mount(self._live, after=old)
        await old.remove()
        self._stream = Markdown.get_stream(self._live)
        await self._stream.write(text[start:])

    async def _frozen_text(self) -> FrozenText:
        if self._frozen is None:
            self._frozen = FrozenText()
            await self.mount(self._frozen, before=0)
        return self._frozen

    @property
    def frozen(self) -> int:
        """How many parts of the reply are frozen."""
        return self._frozen.parts if self._frozen is not None else 0

    async def on_unmount(self) -> None:
        # Stopping a MarkdownStream flushes its pending text into the widget, which is being
        # removed too (quitting mid-reply): that text is on disk, the widget is going.
        with contextlib.suppress(MountError):
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
            (await self._frozen_text()).add([tail])
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
