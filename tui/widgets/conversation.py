"""The conversation as one widget (Textual's Line API): every message, and the reply being
written, painted from cached lines.

A widget per message (and a widget tree per streaming Markdown reply) made every chunk of a
reply re-lay out the whole screen: most of a core while an agent talked, a fifth of a second
per keystroke. Here each message is rendered by Rich once per width into strips; painting
asks only for the visible lines. The reply being written keeps its finished blocks as frozen
parts (rendered once) and re-renders only its tail, at most `FRAME_RATE` times a second, with
the chunks that came in between. A finished reply keeps the parts it streamed in, so nothing
moves when it completes.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.markdown import CodeBlock
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style
from rich.styled import Styled
from rich.text import Text
from textual import events
from textual.color import Color
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from tui.client.inert import inert, inert_name
from tui.markdown_split import next_cut
from tui.store import Status, StoredMessage, text_pattern

FRAME_RATE = 8
"""Most repaints a second of a streaming reply; chunks in between are coalesced."""
LIVE_LIMIT = 800
"""Characters of a reply's tail re-rendered on each frame; finished blocks before are frozen."""
KEEP_TAIL = 200
KEEP_RENDERED = 200
"""Entries whose rendered lines are kept (the ones painted last)."""
BAR_RATE = 2
"""Most scrollbar updates a second while a reply grows the conversation."""
STATUS_NOTES: dict[Status, str] = {
    "pending": "queued — sends when connected",
    "sent": "sent — awaiting the server",
    "acknowledged": "✓ received",
    "not_confirmed": "not confirmed — the connection dropped; ctrl+r sends it again",
    "replying": "replying…",
    "interrupted": "interrupted — ctrl+r asks again",
    "stopped": "stopped — ctrl+r asks again",
}
"""The marker under each message: what is true of it now."""
USER_INDENT = 8
REPLY_MARGIN = 4


@dataclass
class Palette:
    """The colours of the boxes, from the app's theme."""

    user: Style = field(default_factory=lambda: Style(color="blue"))
    assistant: Style = field(default_factory=lambda: Style(color="magenta"))
    error: Style = field(default_factory=lambda: Style(color="red"))
    note: Style = field(default_factory=lambda: Style(color="yellow"))
    match: Style = field(default_factory=lambda: Style(color="black", bgcolor="yellow"))
    """A text found (ctrl+f)."""
    current: Style = field(
        default_factory=lambda: Style(color="black", bgcolor="dark_orange", bold=True)
    )
    """The found text the cursor is on."""


SHOWN_REPLY = 512 * 1024
"""Characters of a reply rendered on screen (as Markdown, in parts). A longer reply is stored,
searchable, copied and exported whole; the box says how much more there is and how to get it
(rendering 10 MiB would take minutes and gigabytes for lines nobody scrolls through)."""
RENDER_BUDGET = 0.05
"""Seconds of rendering finished parts per paint: a reply that came faster than it renders is
drawn over several paints, and keys are answered in between."""
CATCH_UP = 0.005
"""Seconds between two paints that draw on a reply's waiting parts."""
SHOWN_PLAIN = 100_000
"""Characters of a user message or an error shown (wrapped as one text, not in parts); the
rest is stored, exported and searchable, and the box says how much is not shown."""


def _plain(text: str) -> str:
    if len(text) <= SHOWN_PLAIN:
        return text
    return f"{text[:SHOWN_PLAIN]}\n… {len(text) - SHOWN_PLAIN:,} more characters not shown"


class Entry:
    """One message on screen: its box, rendered once per width."""

    def __init__(self, message: StoredMessage | None, agent_name: str) -> None:
        self.message = message
        """None while it is the reply being written."""
        self.agent_name = agent_name
        markdown = message is not None and _markdown(message) and bool(message.text)
        self.parts: list[str] = []
        """Finished blocks of a reply, each rendered once (about LIVE_LIMIT characters)."""
        self.openers: list[str] = []
        """The code fence each part starts inside ("": none): a block cut only because it grew
        past FORCE_AFTER goes on in the next part."""
        self.tail = ""
        self.tail_opener = ""
        self._chars = 0
        """Characters in the parts."""
        self.hidden = 0
        """Characters past SHOWN_REPLY, not rendered."""
        self.behind = False
        """Parts wait to be rendered (the budget of a paint ran out): paint again soon."""
        if markdown and message is not None:
            self._take(message.text, whole=True)
        elif message is not None:
            self.tail = message.text
        self.status_drawn = message.status if message else ""
        self._lines: dict[int, list[Strip]] = {}
        self._heights: dict[int, int] = {}
        """Lines at each width, kept when the lines themselves are forgotten."""
        self._frozen: dict[int, list[Strip]] = {}
        self._frozen_count: dict[int, int] = {}

    @property
    def text(self) -> str:
        return "".join(self.parts) + self.tail

    @property
    def subtitle(self) -> str:
        if self.message is None:
            return "writing…"
        return STATUS_NOTES.get(self.message.status, "")

    @property
    def title(self) -> str:
        """Who wrote it, as the box's title says."""
        return {"user": "You", "error": "Error"}.get(self.role, self.agent_name)

    @property
    def role(self) -> str:
        return self.message.role if self.message else "assistant"

    def changed(self) -> None:
        """The status (or the message) changed: render again at the next paint."""
        if self.message is not None and self.message.role == "assistant":
            frozen = "".join(self.parts)
            if self.message.text.startswith(frozen):
                self._take(self.message.text)  # a reopened reply grew
        self._stale()

    def grow(self, text: str) -> None:
        """The live reply is now `text` (it only grows): finished blocks past the limit are
        frozen, the rest is the tail."""
        self._take(text)
        self._stale()

    def _take(self, text: str, whole: bool = False) -> None:
        """Show `text`, which goes on from the parts already frozen, up to SHOWN_REPLY."""
        self.hidden = max(0, len(text) - SHOWN_REPLY)
        self._freeze(text[self._chars : SHOWN_REPLY], whole)

    def _freeze(self, tail: str, whole: bool = False) -> None:
        """Move the finished blocks of `tail` (what follows the parts) into parts of about
        LIVE_LIMIT characters, each rendered quickly; `whole`: a finished reply, cut the same
        way, all of it in parts."""
        opener = self.tail_opener
        while len(tail) > LIVE_LIMIT:
            cut = next_cut(tail, opener, LIVE_LIMIT, KEEP_TAIL)
            if cut is None:
                break  # one long block (a code fence) is still being written
            offset, following = cut
            self.parts.append(tail[:offset])
            self.openers.append(opener)
            self._chars += offset
            tail, opener = tail[offset:], following
        if whole and tail:
            self.parts.append(tail)
            self.openers.append(opener)
            self._chars += len(tail)
            tail, opener = "", ""
        self.tail, self.tail_opener = tail, opener

    def finish(self, message: StoredMessage) -> None:
        """The live reply is complete: it keeps the parts it streamed in (nothing moves)."""
        self.message = message
        frozen = "".join(self.parts)
        if message.text.startswith(frozen):
            self._take(message.text)
        else:  # the stored text is not what streamed: render it afresh
            self.parts, self.openers, self.tail, self.tail_opener = [], [], "", ""
            self._chars = 0
            self._take(message.text, whole=True)
            self._frozen.clear()
            self._frozen_count.clear()
        self._stale()

    def lines(self, width: int, look: Look) -> list[Strip]:
        """The entry's lines at this width, styled and ready to paint (cached)."""
        cached = self._lines.get(width)
        if cached is None:
            self.status_drawn = self.message.status if self.message else ""
            cached = self._render(width, look)
            if len(self._lines) > 2:
                self._lines.clear()  # a few widths are kept (a scrollbar may come and go)
            self._lines[width] = cached
            self._heights[width] = len(cached)
        return cached

    def height(self, width: int) -> int | None:
        """How many lines it takes at this width, if it was rendered since it changed."""
        return self._heights.get(width)

    @property
    def rendered(self) -> bool:
        """It keeps rendered lines (at some width); else only their count."""
        return bool(self._lines)

    def render_more(self) -> None:
        """Its parts are not all drawn (`behind`): the next paint draws on from there."""
        self._lines.clear()

    def forget(self) -> None:
        """Drop the rendered lines, keeping their count: rendered again if shown again."""
        self._lines.clear()
        self._frozen.clear()
        self._frozen_count.clear()

    def _stale(self) -> None:
        """What it shows changed: render again at the next paint."""
        self._lines.clear()
        self._heights.clear()

    # rendering ----------------------------------------------------------------------------------

    def _render(self, width: int, look: Look) -> list[Strip]:
        """The box: top edge, body lines, bottom edge, a blank line. Only the tail of a reply
        being written is rendered again; its frozen parts are kept boxed, per width."""
        frame = _Frame(self.role, width, look)
        message = self.message
        if message is not None and message.role in ("user", "error"):
            shown = inert(_plain(message.text))  # from the server too: shown, never obeyed
            text = Text(shown if message.role == "user" else f"Error: {shown}")
            for attached in message.attachments:  # where the backend keeps it, as a link
                link = Style(link=attached.url) if _linkable(attached.url) else Style()
                text.append(f"\n📎 {inert_name(attached.label)}", look.palette.note + link)
            body = frame.box(_render(text, frame.inner, look))
        else:
            frozen = self._frozen_lines(frame)
            tail = self.tail or ("" if self.parts or message is None else _empty(message))
            tail = _reopened(self.tail_opener, tail) if self.tail else tail
            if self.behind:  # the tail follows once the parts before it are drawn
                tail = ""
            tail_lines = frame.box(_render(_md(tail), frame.inner, look)) if tail else []
            gap = frame.box([[]]) if frozen and tail_lines else []
            body = [*frozen, *gap, *tail_lines]
            if self.hidden and not self.behind:
                body += frame.box(_render(_not_shown(self.hidden, look), frame.inner, look))
        title = self.title
        if look.times and message is not None and (when := shown_time(message.timestamp)):
            title = f"{title} · {when}"
        return [frame.edge(True, title), *body, frame.edge(False, self.subtitle), frame.blank]

    def _frozen_lines(self, frame: _Frame) -> list[Strip]:
        """The frozen parts, boxed at this width, each rendered once, for at most RENDER_BUDGET
        seconds a paint (`behind`: some are left for the next)."""
        width = frame.width
        done = self._frozen_count.get(width, 0)
        lines = self._frozen.setdefault(width, [])
        until = time.monotonic() + RENDER_BUDGET
        self.behind = False
        for index in range(done, len(self.parts)):
            if index > done and time.monotonic() > until:
                self.behind = True
                break
            if index:
                lines.extend(frame.box([[]]))
            text = _reopened(self.openers[index], self.parts[index])
            lines.extend(frame.box(_render(_md(text), frame.inner, frame.look)))
            self._frozen_count[width] = index + 1
        return lines


@dataclass
class Look:
    """What rendering needs from the app: its console, options, colours, base style."""

    console: Console
    options: ConsoleOptions
    palette: Palette
    base: Style
    times: bool = False
    """Each message's time beside its author (F9)."""


def shown_time(stamp: str, now: datetime | None = None) -> str:
    """`14:02` today, `Nov 21 14:02` before, in local time; '' for a stamp that is not one."""
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    return when.strftime("%H:%M" if when.date() == today else "%b %d %H:%M")


class _Frame:
    """The box of one entry at one width: margins, borders, colours."""

    def __init__(self, role: str, width: int, look: Look) -> None:
        self.look, self.width = look, width
        self.indent = USER_INDENT if role == "user" else 0
        self.right = 0 if role == "user" else REPLY_MARGIN
        self.size = max(10, width - self.indent - self.right)
        self.inner = self.size - 4
        palette = look.palette
        self.style = {"user": palette.user, "error": palette.error}.get(role, palette.assistant)
        self._left = [Segment(" " * self.indent), Segment("│ ", self.style)]
        self._right = [Segment(" │", self.style), Segment(" " * self.right)]
        self.blank = Strip.blank(width, look.base)

    def box(self, lines: list[list[Segment]]) -> list[Strip]:
        base, inner = self.look.base, self.inner
        return [
            Strip([*self._left, *(line or [Segment(" " * inner)]), *self._right], self.width)
            .apply_style(base)
            .simplify()
            for line in lines
        ]

    def edge(self, top: bool, label: str) -> Strip:
        """The top edge with the title, or the bottom edge with the note on the right."""
        size, style = self.size, self.style
        segments = [Segment(" " * self.indent), Segment(("╭" if top else "╰") + "─", style)]
        used = 2
        text = f" {label} " if label else ""
        if top and text:
            text = text[: size - 4]
            segments.append(Segment(text, style + Style(bold=True)))
            used += len(text)
        note = text[: max(0, size - used - 3)] if not top else ""
        segments.append(Segment("─" * max(0, size - used - len(note) - 2), style))
        if note:
            segments.append(Segment(note, self.look.palette.note))
        segments.append(Segment("─" + ("╮" if top else "╯"), style))
        segments.append(Segment(" " * self.right))
        return Strip(segments, self.width).apply_style(self.look.base)


def _not_shown(count: int, look: Look) -> Text:
    return Text(
        f"\n… {count:,} more characters not shown here. The whole reply is stored: ctrl+l "
        "copies it, Export in the palette (ctrl+p) writes it to a file.",
        look.palette.note,
    )


def _reopened(opener: str, text: str) -> str:
    """A part that starts inside a code fence, rendered inside it."""
    return f"{opener}\n{text}" if opener else text


def _markdown(message: StoredMessage) -> bool:
    return message.role not in ("user", "error")


def _empty(message: StoredMessage) -> str:
    if message.status in ("interrupted", "stopped"):
        return f"_The reply was {message.status} before any text arrived._"
    return "_No text._"


class _CopyableCode(CodeBlock):
    """A code block whose cells carry its source, so a click on it copies the code alone."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip()
        for renderable in super().__rich_console__(console, options):
            yield Styled(renderable, Style(meta={"code": code}))  # type: ignore[arg-type]


class _Markdown(RichMarkdown):
    elements = {**RichMarkdown.elements, "fence": _CopyableCode, "code_block": _CopyableCode}


def _md(text: str) -> RichMarkdown:
    # hyperlinks off: a link shows its target, "text (url)", in every terminal; the text is
    # made inert first (docs/safety.md): a reply quotes whatever the agent read
    return _Markdown(inert(text), code_theme="monokai", hyperlinks=False)


_LINKABLE = re.compile(r"[\x21-\x7e]+")


def _linkable(url: str) -> bool:
    """A target that can go in a terminal hyperlink (OSC 8) as it is: printable ASCII with no
    space. Anything else (an ESC, an ST that would end the link early) is shown unlinked."""
    return bool(_LINKABLE.fullmatch(url))


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


def _render(renderable: RenderableType, width: int, look: Look) -> list[list[Segment]]:
    segments = look.console.render(renderable, look.options.update(width=width, height=None))
    return list(Segment.split_and_crop_lines(segments, width, include_new_lines=False, pad=True))


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
        times: bool = False,
        id: str | None = None,
    ) -> None:
        """`live_text`: where a frame reads the reply being written, so the chunks that
        arrive while a frame is due need not be handed over one by one. `times`: show each
        message's time."""
        super().__init__(id=id)
        self.times = times
        self.agent_name = agent_name
        self._live_text = live_text
        self.entries: list[Entry] = []
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
        self._shown_at = 0.0
        self.palette = Palette()
        self.follow = True
        """Keep the newest line in view (off once the user scrolls up, on again at the end)."""
        self._look: Look | None = None
        self._marking: re.Pattern[str] | None = None
        """What is found (ctrl+f) is marked wherever it shows."""
        self._current: tuple[Entry, int, int] | None = None
        """The found text the cursor is on: its entry, line in the entry, start in the line."""
        self._reveal_due: tuple[str, int] | None = None
        """A message to reveal once the conversation has a size (it was hidden)."""

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

    def add(self, messages: list[StoredMessage], *, at_top: bool = False) -> None:
        entries = [Entry(m, self.agent_name) for m in messages]
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

    def show_times(self, on: bool) -> None:
        """Times beside the authors, or not: every box's top edge is drawn again (its height
        does not change, so the reading position holds)."""
        if on == self.times:
            return
        self.times = on
        self._look = None
        for entry in self.entries:
            entry.forget()  # its height is kept: only the boxes in view render again
        self._reflow()

    def changed(self, message: StoredMessage) -> None:
        for entry in self.entries:
            if entry.message is message:
                entry.changed()
        self._reflow()

    def restatus(self) -> None:
        """Draw again the messages whose status changed since they were drawn."""
        stale = [e for e in self.entries if e.message and e.message.status != e.status_drawn]
        for entry in stale:
            entry.changed()
        if stale:
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
        if self._look is None or width != self._width:
            self._look = Look(
                self.app.console,
                self.app.console_options,
                self.palette,
                self.rich_style,
                self.times,
            )
        look = self._look
        entries, starts = self.entries, self._starts
        if last_only and width == self._width and len(starts) == len(entries) and entries:
            total = starts[-1] + len(entries[-1].lines(width, look))  # the live reply grew
        else:
            starts, total = [], 0
            for entry in entries:
                starts.append(total)
                height = entry.height(width)
                if height is None:
                    height = len(entry.lines(width, look))
                    self._keep(entry)
                total += height
        self._width, self._starts, self._total = width, starts, total
        following = self.follow
        self._resize_content(Size(width, total))
        if following:
            self.scroll_y = self.max_scroll_y
        self.refresh()
        self._shown_at = time.monotonic()
        if not self._catch_up_due and any(entry.behind for entry in entries):
            self._catch_up_due = True
            self.set_timer(CATCH_UP, self._catch_up)

    def _catch_up(self) -> None:
        """Draw on the parts a paint's budget left, after a pause in which keys are read; the
        screen shows the progress at most FRAME_RATE times a second (a paint of it costs as
        much as a budget of rendering)."""
        self._catch_up_due = False
        behind = [entry for entry in self.entries if entry.behind]
        if not behind or self._look is None:
            return
        for entry in behind:
            entry.render_more()
            entry.lines(self._width, self._look)
        if any(e.behind for e in behind) and time.monotonic() - self._shown_at < 1 / FRAME_RATE:
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
        if self.follow:  # what comes in now must not take the found message out of view
            self.follow = False
            self.post_message(self.Following(False))
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
        following = new_value >= self.max_scroll_y - 1
        if following != self.follow:
            self.follow = following
            self.post_message(self.Following(following))

    def page(self, direction: int) -> None:
        """A page up (-1) or down (1), at once (Textual's own page scroll waits a refresh)."""
        step = max(1, self.scrollable_content_region.height - 2)
        self.scroll_y = self.scroll_y + direction * step

    def to_newest(self) -> None:
        """Back to the bottom, following what comes in."""
        self.scroll_y = self.max_scroll_y
        if not self.follow:  # it was at the bottom already: the scroll changed nothing
            self.follow = True
            self.post_message(self.Following(True))

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
        code = event.style.meta.get("code") if event.style else None
        if isinstance(code, str):
            self.post_message(self.CopyRequested(code, "code block"))
        elif entry is not None and entry.message is not None:
            self.post_message(self.CopyRequested(entry.message.text, "message"))
