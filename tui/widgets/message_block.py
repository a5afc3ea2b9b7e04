"""One finished message on screen: a single widget, however long the message.

Finished replies render through Rich's Markdown inside one Static, so each costs one widget
(a Textual Markdown widget is a tree of widgets, and screen updates slow with widget count).
"""

from __future__ import annotations

from rich.markdown import Markdown as RichMarkdown
from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from tui.store import StoredMessage

STATUS_NOTES = {
    "pending": "queued — sends when connected",
    "sent": "sent — awaiting the server",
    "acknowledged": "✓ received",
    "not_confirmed": "not confirmed — the connection dropped; ctrl+r sends it again",
    "replying": "replying…",
    "interrupted": "interrupted — ctrl+r asks again",
    "stopped": "stopped — ctrl+r asks again",
}
"""The marker under each message: what is true of it now."""


class MessageBlock(Static):
    """Click to copy its text."""

    class CopyRequested(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, message: StoredMessage, agent_name: str) -> None:
        super().__init__(classes=f"message {message.role}")
        self.message = message
        self.agent_name = agent_name
        self.refresh_message()

    def refresh_message(self) -> None:
        message = self.message
        self.set_classes(f"message {message.role} {message.status}")
        if message.role == "user":
            self.border_title = "You"
            self.update(Text(message.text))
        elif message.role == "error":
            self.border_title = "Error"
            self.update(Text(f"Error: {message.text}"))
        else:
            self.border_title = self.agent_name
            body = message.text or ("_The reply was interrupted before any text arrived._")
            self.update(RichMarkdown(body, code_theme="monokai"))
        self.border_subtitle = STATUS_NOTES.get(message.status, "")

    def on_click(self) -> None:
        self.post_message(self.CopyRequested(self.message.text))
