"""How one message is drawn: its box (margins, borders, title and note), its colours, and its
text rendered with Rich (Markdown for a reply, plain text for the rest), all made inert first."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.markdown import CodeBlock
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style
from rich.styled import Styled
from rich.text import Text
from textual.strip import Strip

from tui.client.inert import inert

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
    chosen: Style = field(default_factory=lambda: Style(reverse=True))
    """The tool call chosen with the keyboard (alt+up / alt+down)."""


@dataclass
class DisplayOptions:
    """What every conversation shows, as the user set it: one object the app writes (F9) and
    each conversation reads as it draws, so the setting lives in one place."""

    times: bool = False
    """Each message's time beside its author."""
    details: bool = False
    """Every tool call shown with its details (a click flips one)."""


@dataclass
class Look:
    """What rendering needs from the app: its console, options, colours, base style."""

    console: Console
    options: ConsoleOptions
    palette: Palette
    base: Style
    times: bool = False
    """Each message's time beside its author (F9)."""
    details: bool = False
    """Tool calls shown with their details unless clicked (F7)."""


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


class Frame:
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


def not_shown(count: int, look: Look) -> Text:
    return Text(
        f"\n… {count:,} more characters not shown here. The whole reply is stored: ctrl+l "
        "copies it, Export in the palette (ctrl+p) writes it to a file.",
        look.palette.note,
    )


class _CopyableCode(CodeBlock):
    """A code block whose cells carry its source, so a click on it copies the code alone."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip()
        for renderable in super().__rich_console__(console, options):
            yield Styled(renderable, Style(meta={"code": code}))  # type: ignore[arg-type]


class _Markdown(RichMarkdown):
    elements = {**RichMarkdown.elements, "fence": _CopyableCode, "code_block": _CopyableCode}


def markdown(text: str) -> RichMarkdown:
    # hyperlinks off: a link shows its target, "text (url)", in every terminal; the text is
    # made inert first (docs/safety.md): a reply quotes whatever the agent read
    return _Markdown(inert(text), code_theme="monokai", hyperlinks=False)


_LINKABLE = re.compile(r"[\x21-\x7e]+")


def linkable(url: str) -> bool:
    """A target that can go in a terminal hyperlink (OSC 8) as it is: printable ASCII with no
    space. Anything else (an ESC, an ST that would end the link early) is shown unlinked."""
    return bool(_LINKABLE.fullmatch(url))


def render_lines(renderable: RenderableType, width: int, look: Look) -> list[list[Segment]]:
    segments = look.console.render(renderable, look.options.update(width=width, height=None))
    return list(Segment.split_and_crop_lines(segments, width, include_new_lines=False, pad=True))


def one_line(text: Text, width: int, look: Look) -> list[list[Segment]]:
    """A text that fits one line, cut to `width`: no wrapping, which costs most of a render
    (a reply at work has hundreds of these, redrawn as their status changes)."""
    segments = list(text.render(look.console))
    return list(Segment.split_and_crop_lines(segments, width, include_new_lines=False, pad=True))
