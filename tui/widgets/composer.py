"""The message composer: Enter sends, ctrl+j (or shift/alt+enter where the terminal tells)
inserts a newline; everything else is TextArea's editing."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = ("ctrl+j", "shift+enter", "alt+enter")


class Composer(TextArea):
    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, draft: str = "", **kwargs: object) -> None:
        super().__init__(
            draft, soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs
        )  # type: ignore[arg-type]
        self.placeholder = "Message — Enter sends, ctrl+j adds a line"

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self.post_message(self.Submitted(self.text))
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)
