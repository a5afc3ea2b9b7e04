"""The message composer: Enter sends, ctrl+j (or shift/alt+enter where the terminal tells)
inserts a newline; everything else is TextArea's editing.

The keys are handled in `on_key`, in the composer's own message queue, so Enter is seen after
every character typed before it, however fast they come (a paste, a burst over ssh). A priority
binding would run on the app's queue as the key arrives, ahead of characters still queued here,
and send a cut message. `prevent_default()` is Textual's public way to keep the base class
(TextArea inserts a newline on Enter) from handling the same key.
"""

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

    def __init__(self, draft: str = "", *, id: str | None = None) -> None:
        super().__init__(
            draft, soft_wrap=True, show_line_numbers=False, tab_behavior="focus", id=id
        )
        self.placeholder = "Message — Enter sends, ctrl+j adds a line"

    class ToNewest(Message):
        """End in an empty composer: back to the newest message."""

    def on_key(self, event: events.Key) -> None:
        if event.key == "end" and not self.text:
            event.stop()
            event.prevent_default()
            self.post_message(self.ToNewest())
        elif event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self.post_message(self.Submitted(self.text))
        elif event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
