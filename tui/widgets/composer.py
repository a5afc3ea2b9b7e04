"""The message composer: Enter sends, ctrl+j (or shift/alt+enter where the terminal tells)
inserts a newline; everything else is TextArea's editing.

The keys are handled in `on_key`, in the composer's own message queue, so Enter is seen after
every character typed before it, however fast they come (a paste, a burst over ssh). A priority
binding would run on the app's queue as the key arrives, ahead of characters still queued here,
and send a cut message. `prevent_default()` is Textual's public way to keep the base class
(TextArea inserts a newline on Enter) from handling the same key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from tui.model.attachment_tray import pasted_path

NEWLINE_KEYS = ("ctrl+j", "shift+enter", "alt+enter")


class Composer(TextArea):
    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self,
        draft: str = "",
        *,
        sent: Callable[[], list[str]] | None = None,
        id: str | None = None,
    ) -> None:
        """`sent`: the messages sent in this tab, newest first (Up and Down recall them)."""
        super().__init__(
            draft, soft_wrap=True, show_line_numbers=False, tab_behavior="focus", id=id
        )
        self.placeholder = "Message — Enter sends, ctrl+j adds a line, ↑ recalls, ctrl+t attaches"
        self._sent = sent or list
        self._recalled: tuple[int, str] | None = None
        """Which sent message is shown (0: the newest) and its text, while recalling."""

    class ToNewest(Message):
        """End in an empty composer: back to the newest message."""

    class EnterWhenEmpty(Message):
        """Enter with nothing to send: the chosen tool call shows its details, or hides them."""

    class BackspaceWhenEmpty(Message):
        """Backspace with nothing to delete: the last attachment goes, as chips do elsewhere."""

    class PastedFile(Message):
        """A file's path was pasted (a file dropped on the terminal): attach it."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def on_paste(self, event: events.Paste) -> None:
        if (path := pasted_path(event.text)) is not None:
            event.stop()
            event.prevent_default()
            self.post_message(self.PastedFile(path))

    def on_key(self, event: events.Key) -> None:
        if event.key in ("up", "down") and self._recall(-1 if event.key == "up" else 1):
            event.stop()
            event.prevent_default()
        elif event.key == "end" and not self.text:
            event.stop()
            event.prevent_default()
            self.post_message(self.ToNewest())
        elif event.key == "backspace" and not self.text:
            event.stop()
            event.prevent_default()
            self.post_message(self.BackspaceWhenEmpty())
        elif event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self.post_message(self.Submitted(self.text))
            else:
                self.post_message(self.EnterWhenEmpty())
        elif event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")

    def _recall(self, direction: int) -> bool:
        """Up in an empty composer shows the last message sent, Up again the one before, Down
        a newer one, and past the newest an empty composer again. Only while the composer is
        empty or shows a recalled message untouched, with the cursor on its first (Up) or
        last (Down) line: otherwise the arrows move the cursor."""
        recalled = self._recalled
        untouched = recalled is not None and self.text == recalled[1]
        row, last = self.cursor_location[0], self.document.line_count - 1
        if direction < 0 and not (not self.text or (untouched and row == 0)):
            return False
        if direction > 0 and not (untouched and row == last):
            return False
        index = (recalled[0] if untouched and recalled else -1) - direction
        sent = self._sent()
        if index >= len(sent):
            return True  # the oldest is shown: stay
        text = sent[index] if index >= 0 else ""
        self._recalled = (index, text) if index >= 0 else None
        self.text = text
        self.move_cursor(self.document.end)
        return True
