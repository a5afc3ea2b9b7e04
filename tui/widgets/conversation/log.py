"""The conversation as one scrolling widget (Textual's Line API): the entries laid out one
under another, painted from their cached lines; follow the newest, frames of a streaming reply,
a throttled scrollbar, find marks, mouse selection and click-to-copy."""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.color import Color
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from tui.store import StoredMessage, text_pattern
from tui.widgets.conversation.box import DisplayOptions, Look, Palette
from tui.widgets.conversation.entry import Entry

FRAME_RATE = 8
"""Most repaints a second of a streaming reply; chunks in between are coalesced."""
KEEP_RENDERED = 200
"""Entries whose rendered lines are kept (the ones painted last)."""
BAR_RATE = 2
"""Most scrollbar updates a second while a reply grows the conversation."""
CATCH_UP = 0.005
"""Seconds between two paints that draw on a reply's waiting parts."""


_EDGE = re.compile(r"^\s*[╭╰]")
"""A box's top or bottom edge."""
_BODY = re.compile(r"^(\s*│ )(.*)( │\s*)$")
"""A line inside a box: border, content, border."""


def _tint(base: str | None, colour: str | None, amount: float) -> str:
    """`colour` laid over `base` at `amount` (a found text stands out, the current more)."""
    under = Color.parse(base or "#000000")
    return under.blend(Color.parse(colour or "yellow"), amount).hex


def _over(strip: Strip, style: Style) -> Strip:
    """The strip with `style` over its own colours (`apply_style` goes under them)."""
    return Strip(Segment.apply_style(iter(strip), post_style=style), strip.cell_length)


class ConversationLog(ScrollView, can_focus=False):
    """All the messages of one tab, painted line by line."""

    DEFAULT_CSS = "ConversationLog { height: 1fr; }"

    class Following(Message):
        """The view started or stopped following the newest line (the user scrolled)."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    class CopyRequested(Message):
        def __init__(self, text: str, what: str) -> None:
            super().__init__()
            self.text = text
            self.what = what

    def __init__(
        self,
        agent_name: str,
        *,
        live_text: Callable[[], str | None] | None = None,
        options: DisplayOptions | None = None,
        id: str | None = None,
    ) -> None:
        """`live_text`: where a frame reads the reply being written, so the chunks that
        arrive while a frame is due need not be handed over one by one. `options`: what every
        conversation shows, the app's to set (read here as it draws)."""
        super().__init__(id=id)
        self.options = options or DisplayOptions()
        self.agent_name = agent_name
        self._live_text = live_text
        self.entries: list[Entry] = []
        self._by_id: dict[str, Entry] = {}
        """The entry showing each message, by its id."""
        self.live: Entry | None = None
        self._starts: list[int] = []
        self._total = 0
        """Lines in all."""
        self._recent: OrderedDict[Entry, None] = OrderedDict()
        """The entries painted last, oldest first: only they keep their rendered lines."""
        self._width = 0
        self._pending_text: str | None = None
        self._frame_due = False
        self._last_frame = 0.0
        self._quiet_bar = False
        """A frame of the live reply is being drawn: the scrollbar may wait."""
        self._bar_due = False
        self._bar_synced = 0.0
        self._catch_up_due = False
        self._behind: list[Entry] = []
        """Entries whose parts are not all drawn yet (the paint's budget ran out): checked
        here, never by a walk over every entry (10,000 of them cost a tenth of a core)."""
        self._shown_at = 0.0
        self.palette = Palette()
        self._follow = True
        self._look: Look | None = None
        self._marking: re.Pattern[str] | None = None
        """What is found (ctrl+f) is marked wherever it shows."""
        self._current: tuple[Entry, int, int] | None = None
        """The found text the cursor is on: its entry, line in the entry, start in the line."""
        self._reveal_due: tuple[str, int] | None = None
        """A message to reveal once the conversation has a size (it was hidden)."""
        self._chosen: tuple[Entry, str] | None = None
        """The tool call chosen with the keyboard: its entry and id (Enter shows its details)."""

    def on_mount(self) -> None:
        super().on_mount()
        theme = self.app.current_theme  # the boxes take the theme's colours, as the CSS did
        self.palette = Palette(
            Style(color=theme.primary),
            Style(color=theme.secondary or theme.primary),
            Style(color=theme.error or "red"),
            Style(color=theme.warning or "yellow"),
            Style(bgcolor=_tint(theme.background, theme.warning, 0.4)),
            Style(color="black", bgcolor=theme.warning or "yellow", bold=True),
        )

    # what is shown ------------------------------------------------------------------------------

    @property
    def follow(self) -> bool:
        """Keep the newest line in view (off once the user scrolls up, on again at the end)."""
        return self._follow

    def _following(self, on: bool) -> None:
        """The one writer of `follow`; the view hears of each change (its status line)."""
        if on != self._follow:
            self._follow = on
            self.post_message(self.Following(on))

    @property
    def times(self) -> bool:
        return self.options.times

    def add(self, messages: Sequence[StoredMessage], *, at_top: bool = False) -> None:
        entries = [Entry(m, self.agent_name) for m in messages]
        self._by_id.update((m.msg_id, e) for m, e in zip(messages, entries, strict=True))
        if at_top:  # earlier history: the lines in view stay in view
            before = self.virtual_size.height
            self.entries[:0] = entries
            self._reflow()
            if not self.follow:
                self.scroll_y = self.scroll_offset.y + self.virtual_size.height - before
            return
        elif self.live is not None and self.live in self.entries:
            index = self.entries.index(self.live)
            self.entries[index:index] = entries  # sent while a reply streams: above it
        else:
            self.entries.extend(entries)
        self._reflow()

    def options_changed(self) -> None:
        """The display options changed (F9: times beside the authors; F7: tool call details):
        every box is drawn again when next shown."""
        look, options = self._look, self.options
        if look is None or (look.times, look.details) == (options.times, options.details):
            return
        resized = look.details != options.details
        self._look = None
        for entry in self.entries:
            if resized and entry.activity:
                entry.redraw()  # its tool calls take more lines, or fewer
            else:
                entry.forget()  # its height is kept: only the boxes in view render again
        self._reflow()

    def shows(self, message: StoredMessage) -> bool:
        """A message with this id is in the conversation (in some value)."""
        return message.msg_id in self._by_id

    def changed(self, message: StoredMessage) -> None:
        """A message shown has a new value (its status, or a reopened reply's text)."""
        entry = self._by_id.get(message.msg_id)
        if entry is not None and entry.message is not message:
            entry.update(message)
            self._reflow()

    def reconcile(self, messages: Sequence[StoredMessage]) -> None:
        """Show these messages as they are now: those not shown yet are added (the ones before
        any shown at the top, the rest at the bottom), those with a new value drawn again.
        Messages are values, so a new value is a new object: nothing else is compared."""
        by_id = self._by_id
        top: list[StoredMessage] = []
        bottom: list[StoredMessage] = []
        known = stale = False
        for message in messages:
            entry = by_id.get(message.msg_id)
            if entry is None:
                (bottom if known or not by_id else top).append(message)
                continue
            known = True
            if entry.message is not message:
                entry.update(message)
                stale = True
        if top:
            self.add(top, at_top=True)
        if bottom:
            self.add(bottom)
        if stale and not (top or bottom):
            self._reflow()

    def stream(self, text: str) -> None:
        """The reply being written is now `text`: painted at the next frame."""
        if self.live is None:
            self.live = Entry(None, self.agent_name)
            self.entries.append(self.live)
        self._pending_text = text
        if self._frame_due:
            return  # the frame already due will paint it
        wait = self._last_frame + 1 / FRAME_RATE - time.monotonic()
        if wait <= 0:
            self._frame()  # the first chunk after a pause is painted at once
        else:
            self._frame_due = True
            self.set_timer(wait, self._frame)

    @property
    def shown(self) -> int:
        """How much of the reply being written is painted (benchmarks and tests look)."""
        return len(self.live.text) if self.live is not None else 0

    def lines_of(self, entry: Entry) -> list[Strip]:
        """The entry's lines as drawn at the log's width ([] before the log has a size)."""
        if self._look is None:
            return []
        return entry.lines(self._width, self._look)

    def flush(self) -> None:
        """Paint the reply being written now and whole, not at the next frame and a budget
        at a time (a test that compares it before and after it completes)."""
        self._frame()
        while (live := self.live) is not None and live.behind and self._look is not None:
            live.render_more()
            live.lines(self._width, self._look)
        self._reflow(last_only=True)

    @property
    def marking(self) -> bool:
        """Found text is marked (ctrl+f is open on a term)."""
        return self._marking is not None

    def end_live(self, message: StoredMessage | None) -> None:
        """The reply ended: it becomes `message` (None: it is dropped)."""
        live, self.live = self.live, None
        self._pending_text, self._frame_due = None, False
        if live is None:
            if message is not None:
                self.add([message])
            return
        if message is None:
            self.entries.remove(live)
        else:
            live.finish(message)
            self._by_id[message.msg_id] = live
        self._reflow()

    def _frame(self) -> None:
        self._frame_due = False
        text, self._pending_text = self._pending_text, None
        if self._live_text is not None:
            text = self._live_text()
        parent = self.parent
        if isinstance(parent, Widget) and not parent.display:
            return  # hidden since the frame was due: the view catches up when shown
        self._last_frame = time.monotonic()
        live = self.live
        if text is not None and live is not None and text.startswith(live.text):
            live.grow(text)  # (a text that is not this reply's is another's: its end is queued)
            self._quiet_bar = True
            try:
                self._reflow(last_only=live is self.entries[-1])
            finally:
                self._quiet_bar = False

    # layout and painting -------------------------------------------------------------------------

    def _reflow(self, last_only: bool = False) -> None:
        """Measure the entries and lay out the conversation; `last_only`: only the last
        entry changed (a frame of the live reply, with 10,000 messages above it)."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        options, look = self.options, self._look
        if (
            look is None
            or width != self._width
            or (look.times, look.details) != (options.times, options.details)
        ):
            look = self._look = Look(
                self.app.console,
                self.app.console_options,
                self.palette,
                self.rich_style,
                options.times,
                options.details,
            )
        entries, starts = self.entries, self._starts
        if last_only and width == self._width and len(starts) == len(entries) and entries:
            total = starts[-1] + len(entries[-1].lines(width, look))  # the live reply grew
            self._note(entries[-1])
        else:
            starts, total = [], 0
            for entry in entries:
                starts.append(total)
                height = entry.height(width)
                if height is None:
                    height = len(entry.lines(width, look))
                    self._keep(entry)
                    self._note(entry)
                total += height
        self._width, self._starts, self._total = width, starts, total
        following = self.follow
        self._resize_content(Size(width, total))
        if following:
            self.scroll_y = self.max_scroll_y
        self.refresh()
        self._shown_at = time.monotonic()

    def _note(self, entry: Entry) -> None:
        """An entry was just rendered: if its budget ran out, draw on soon."""
        if entry.behind and not any(e is entry for e in self._behind):
            self._behind.append(entry)
        if self._behind and not self._catch_up_due:
            self._catch_up_due = True
            self.set_timer(CATCH_UP, self._catch_up)

    def _catch_up(self) -> None:
        """Draw on the parts a paint's budget left, after a pause in which keys are read; the
        screen shows the progress at most FRAME_RATE times a second (a paint of it costs as
        much as a budget of rendering)."""
        self._catch_up_due = False
        behind = [entry for entry in self._behind if entry.behind]
        if not behind or self._look is None:
            self._behind = []
            return
        for entry in behind:
            entry.render_more()
            entry.lines(self._width, self._look)
        self._behind = [entry for entry in behind if entry.behind]
        if self._behind and time.monotonic() - self._shown_at < 1 / FRAME_RATE:
            self._catch_up_due = True
            self.set_timer(CATCH_UP, self._catch_up)
            return
        self._reflow(last_only=behind == self.entries[-1:])

    def _resize_content(self, size: Size) -> None:
        """A new content size. `virtual_size` is a layout reactive: setting it lays out the
        whole screen, then paints again for the scrollbar, on every frame of a reply. When
        the scrollbar stays as it was (shown before and after), only the scrollbar needs to
        hear of it."""
        old, view = self.virtual_size, self.scrollable_content_region.height
        if size == old:
            return
        if size.width == old.width and min(size.height, old.height) > view > 0:
            self.set_reactive(ScrollView.virtual_size, size)
            self._update_bar()
        else:
            self.virtual_size = size

    def _update_bar(self) -> None:
        """Bring the scrollbar up to date; while a reply grows the conversation, at most
        `BAR_RATE` times a second (each update repaints the whole bar, a sixth of a frame's
        cost, for a thumb that barely moves)."""
        if not self._quiet_bar:
            self._sync_bar()
        elif not self._bar_due:
            wait = self._bar_synced + 1 / BAR_RATE - time.monotonic()
            if wait <= 0:
                self._sync_bar()
            else:
                self._bar_due = True
                self.set_timer(wait, self._sync_bar)

    def _sync_bar(self) -> None:
        self._bar_due, self._bar_synced = False, time.monotonic()
        if self.show_vertical_scrollbar:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = self.virtual_size.height
            bar.position = self.scroll_y

    def on_resize(self, event: events.Resize) -> None:
        self._reflow()
        if self._reveal_due is not None and self._look is not None:
            self.reveal(*self._reveal_due)

    def render_line(self, y: int) -> Strip:
        """A cached line of the entry under this row: nothing is rendered while painting.
        Each cell carries its place in the conversation, for selecting with the mouse."""
        line = round(self.scroll_offset.y) + y
        found = self._locate(line)
        if found is None:
            return Strip.blank(self.scrollable_content_region.width)
        entry, offset, strip = found
        picked = self._chosen
        if picked is not None and picked[0] is entry and entry.item_row(picked[1]) == offset:
            strip = _over(strip, self.palette.chosen)
        if self._marking is not None:
            strip = self._marked(strip, entry, offset, self._marking)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(line)) is not None:
            start, end = span
            end = strip.cell_length if end == -1 else end
            before, chosen, after = strip.divide([start, end, strip.cell_length])
            style = self.screen.get_component_rich_style("screen--selection")
            strip = Strip.join([before, _over(chosen, style), after])
        return strip.apply_offsets(0, line)

    def _line(self, line: int) -> Strip | None:
        found = self._locate(line)
        return found[2] if found is not None else None

    def _locate(self, line: int) -> tuple[Entry, int, Strip] | None:
        """The entry under this line of the conversation, the line's place in it, the line."""
        look = self._look
        if not self._starts or line < 0 or look is None:
            return None
        index = bisect_right(self._starts, line) - 1
        entry = self.entries[index]
        lines = entry.lines(self._width, look)
        self._keep(entry)
        self._note(entry)
        offset = line - self._starts[index]
        return (entry, offset, lines[offset]) if offset < len(lines) else None

    def _marked(self, strip: Strip, entry: Entry, offset: int, found: re.Pattern[str]) -> Strip:
        """The line with what is found marked (the current one apart); box edges never."""
        text = strip.text
        spans = [] if _EDGE.match(text) else [m.span() for m in found.finditer(text)]
        if not spans:
            return strip
        cuts = [cell_len(text[:at]) for span in spans for at in span]
        pieces = strip.divide([*cuts, strip.cell_length])
        palette, current = self.palette, self._current
        out = [pieces[0]]
        for number, (start, _) in enumerate(spans):
            here = current is not None and current == (entry, offset, start)
            out.append(_over(pieces[2 * number + 1], palette.current if here else palette.match))
            out.append(pieces[2 * number + 2])
        return Strip.join(out)

    # find ----------------------------------------------------------------------------------------

    def mark(self, term: str | None) -> None:
        """Mark every place `term` shows (any case); None: mark nothing."""
        self._marking = text_pattern(term) if term else None
        self._current = None
        self.refresh()

    def reveal(self, msg_id: str, occurrence: int = 0) -> bool:
        """Scroll the message into view, at the `occurrence`-th marked text in it (the current
        one) if it shows there; False if the message is not in the conversation."""
        look = self._look
        self._reveal_due = (msg_id, occurrence) if look is None else None
        index = next(
            (
                number
                for number, entry in enumerate(self.entries)
                if entry.message is not None and entry.message.msg_id == msg_id
            ),
            None,
        )
        if index is None or look is None or index >= len(self._starts):
            return False
        entry = self.entries[index]
        lines = entry.lines(self._width, look)
        self._keep(entry)
        found = self._marking
        spots = [
            (offset, match.start())
            for offset, strip in enumerate(lines)
            if found is not None and not _EDGE.match(text := strip.text)
            for match in found.finditer(text)
        ]
        offset, start = spots[min(occurrence, len(spots) - 1)] if spots else (0, -1)
        self._current = (entry, offset, start) if spots else None
        line = self._starts[index] + offset
        view = self.scrollable_content_region.height
        self._following(False)  # what comes in now must not take the found message out of view
        self.scroll_y = max(0, line - view // 3)  # at once (scroll_to may wait for a layout)
        self.refresh()
        return True

    def _keep(self, entry: Entry) -> None:
        """Keep the lines of the entries painted or measured last; forget those of the
        others, keeping their line counts (10,000 messages kept every line: 9 KB each)."""
        recent = self._recent
        recent[entry] = None
        recent.move_to_end(entry)
        while len(recent) > KEEP_RENDERED:
            oldest = next(iter(recent))
            del recent[oldest]
            if oldest is not self.live:
                oldest.forget()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text selected with the mouse, as shown, without the boxes' borders; messages
        are separated by a blank line."""
        first = selection.start.y if selection.start is not None else 0
        last = selection.end.y if selection.end is not None else (self._total - 1)
        lines: list[str] = []
        for line in range(max(0, first), min(last, self._total - 1) + 1):
            strip, span = self._line(line), selection.get_span(line)
            if strip is None or span is None:
                continue
            text = strip.text
            if _EDGE.match(text) or not text.strip():
                if lines and lines[-1]:
                    lines.append("")  # between two messages
                continue
            body = _BODY.match(text)
            left, right = (body.start(2), body.end(2)) if body else (0, len(text))
            start, end = span
            end = len(text) if end == -1 else end
            lines.append(text[max(start, left) : min(end, right)].rstrip())
        return "\n".join(lines).strip("\n"), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        if self._quiet_bar:  # as ScrollView does, with the bar kept up to date less often
            if round(old_value) != round(new_value):
                self.refresh(self.size.region)
            self._update_bar()
        else:
            super().watch_scroll_y(old_value, new_value)
        self._following(new_value >= self.max_scroll_y - 1)

    def page(self, direction: int) -> None:
        """A page up (-1) or down (1), at once (Textual's own page scroll waits a refresh)."""
        step = max(1, self.scrollable_content_region.height - 2)
        self.scroll_y = self.scroll_y + direction * step

    def to_newest(self) -> None:
        """Back to the bottom, following what comes in."""
        self.scroll_y = self.max_scroll_y
        self._following(True)  # (at the bottom already, the scroll changed nothing)

    def _item_at(self, entry: Entry, y: int) -> str | None:
        """The tool call drawn at row `y` of the view, if one is."""
        index = next((i for i, e in enumerate(self.entries) if e is entry), None)
        if index is None or index >= len(self._starts):
            return None
        return entry.item_at(round(self.scroll_offset.y) + y - self._starts[index])

    def toggle_work(self, entry: Entry, item_id: str) -> None:
        """Show a tool call's details (its input, output, diff), or hide them again."""
        entry.toggle(item_id)
        self._reflow(last_only=entry is self.entries[-1])

    # tool calls chosen with the keyboard --------------------------------------------------------

    @property
    def chosen(self) -> str | None:
        """The id of the tool call chosen with the keyboard, if one is (and still shown)."""
        chosen = self._chosen
        if chosen is None or not any(e is chosen[0] for e in self.entries):
            return None
        return chosen[1]

    def choose_work(self, direction: int) -> bool:
        """Choose the tool call before (-1) or after (1) the chosen one, the newest first, and
        scroll it into view; past the newest, none is chosen. False: this tab has none."""
        calls = [(e, item.id) for e in self.entries for item in e.activity.items]
        if not calls:
            self._chosen = None
            return False
        chosen = self._chosen
        at = next(
            (n for n, (e, i) in enumerate(calls) if chosen and e is chosen[0] and i == chosen[1]),
            None,
        )
        if at is None:
            at = len(calls) - 1
        elif 0 <= at + direction < len(calls):
            at += direction
        elif direction > 0:  # past the newest: back to writing, following the newest
            self._chosen = None
            self.to_newest()
            self.refresh()
            return True
        self._chosen = calls[at]
        self._show_chosen()
        return True

    def _show_chosen(self) -> None:
        """Scroll the chosen tool call's line into view if it is not."""
        chosen = self._chosen
        if chosen is None or self._look is None:
            return
        entry, item_id = chosen
        index = next((n for n, e in enumerate(self.entries) if e is entry), None)
        self.lines_of(entry)  # (where its calls are is known once it is rendered)
        row = entry.item_row(item_id)
        if index is not None and row is not None and index < len(self._starts):
            line = self._starts[index] + row
            height = self.scrollable_content_region.height
            top = round(self.scroll_offset.y)
            if not top <= line < top + height:
                self.scroll_y = max(0, min(line - height // 2, self.max_scroll_y))
        self.refresh()

    def toggle_chosen(self) -> bool:
        """Show or hide the chosen tool call's details; False if none is chosen."""
        if self.chosen is None or self._chosen is None:
            return False
        entry, item_id = self._chosen
        self.toggle_work(entry, item_id)
        self._show_chosen()
        return True

    def entry_at(self, y: int) -> Entry | None:
        line = round(self.scroll_offset.y) + y
        if not self._starts or line < 0:
            return None
        return self.entries[bisect_right(self._starts, line) - 1]

    def on_click(self, event: events.Click) -> None:
        """A click copies the message under it as Markdown, or the code block under it on
        its own. The end of a drag (text selected with the mouse, ctrl+c copies it) is not
        a click."""
        if self.text_selection is not None:
            return
        entry = self.entry_at(event.y)
        if entry is not None and (item := self._item_at(entry, event.y)) is not None:
            self.toggle_work(entry, item)
            return
        code = event.style.meta.get("code") if event.style else None
        if isinstance(code, str):
            self.post_message(self.CopyRequested(code, "code block"))
        elif entry is not None and entry.message is not None:
            self.post_message(self.CopyRequested(entry.message.text, "message"))
