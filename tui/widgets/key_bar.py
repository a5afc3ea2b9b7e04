"""The bottom line: the keys that matter most, as many as the width holds.

Textual's Footer lists every binding in the order the bindings are found and cuts the line at
the right edge, so at 80 columns Help, the palette and Attach could fall off while Rename
stayed. Here each key has a rank: the line takes the best-ranked keys that fit, and shows
them in rank order. A click on a key runs its action.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.widget import Widget

GAP = 2


@dataclass(frozen=True)
class KeyHint:
    key: str
    """As shown: `^t`, `f1`, `esc`."""
    label: str
    action: str

    @property
    def width(self) -> int:
        return len(self.key) + 1 + len(self.label)


def fitting(hints: list[KeyHint], width: int) -> list[KeyHint]:
    """The first hints (best first) that fit in `width` cells with a gap between each."""
    shown: list[KeyHint] = []
    used = 0
    for hint in hints:
        needed = hint.width + (GAP if shown else 0)
        if used + needed > width:
            continue  # a shorter one further down may still fit
        shown.append(hint)
        used += needed
    return shown


class KeyBar(Widget):
    COMPONENT_CLASSES = {"keybar--key"}
    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        dock: bottom;
        background: $footer-background;
        color: $footer-description-foreground;
        padding: 0 1;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    """

    def __init__(self, hints: list[KeyHint], *, id: str | None = None) -> None:
        """`hints`: best first."""
        super().__init__(id=id)
        self.hints = hints
        self._spans: list[tuple[int, int, str]] = []
        """Where each shown key is on the line: (start, end, action)."""

    @property
    def shown(self) -> list[KeyHint]:
        return fitting(self.hints, self.content_size.width)

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="crop")
        self._spans = []
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        for hint in self.shown:
            if line:
                line.append(" " * GAP)
            start = line.cell_len
            line.append(hint.key, key_style)
            line.append(f" {hint.label}")
            self._spans.append((start, line.cell_len, hint.action))
        return line

    async def on_click(self, event: events.Click) -> None:
        x = event.x - self.styles.padding.left
        for start, end, action in self._spans:
            if start <= x < end:
                event.stop()
                await self.app.run_action(action)
                return

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()
