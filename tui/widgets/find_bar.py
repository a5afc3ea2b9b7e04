"""The find bar of a tab (ctrl+f): what to find, how many, and the keys that step through
them. It only reports what the user wants; the chat view finds and shows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label

SETTLE = 0.1
"""Seconds of no typing before the text is looked for: finding in 10,000 messages takes up to
~0.1 s, once for the word typed rather than once per letter."""


class FindBar(Horizontal):
    BINDINGS = [
        Binding("escape", "close", "Close find", show=False),
        Binding("up,ctrl+f", "step(-1)", "Older match", show=False),
        Binding("down", "step(1)", "Newer match", show=False),
    ]

    class Changed(Message):
        """The text to find is now `term` (empty: nothing)."""

        def __init__(self, term: str) -> None:
            super().__init__()
            self.term = term

    class Step(Message):
        """Go to the older (-1) or newer (+1) match."""

        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    class Closed(Message):
        """The user is done finding."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._typing: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label("Find ", classes="find-label")
        yield Input(placeholder="text in this tab", compact=True, id="find-input")
        yield Label("", id="find-count")
        yield Label("↑/Enter older · ↓ newer · Esc", classes="find-hint")

    @property
    def input(self) -> Input:
        return self.query_one("#find-input", Input)

    def open(self, term: str | None = None) -> None:
        """Show the bar and take the keys; `term`: put this text in (without a Changed)."""
        self.display = True
        if term is not None:
            with self.input.prevent(Input.Changed):
                self.input.value = term
        self.input.focus()

    def show_count(self, text: str) -> None:
        count = self.query_one("#find-count", Label)
        count.update(f" {text} " if text else "")
        count.set_class(text == "no match", "-none")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(SETTLE, self._settled)

    def _settled(self) -> None:
        self._typing = None
        self.post_message(self.Changed(self.input.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._typing is not None:  # Enter before the text was looked for: look now
            self._typing.stop()
            self._settled()
        else:
            self.post_message(self.Step(-1))

    def action_step(self, delta: int) -> None:
        self.post_message(self.Step(delta))

    def action_close(self) -> None:
        self.display = False
        self.post_message(self.Closed())
