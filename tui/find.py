"""Find in one tab (ctrl+f): every occurrence of a text in the tab's history, loaded or not,
and a cursor that steps through them. Plain data: the chat view draws it."""

from __future__ import annotations

from dataclasses import dataclass

from tui.store import StoredMessage, text_pattern


@dataclass(frozen=True)
class Hit:
    msg_id: str
    row: int
    """The message's row in the local store (loaded up to it when it is not on screen)."""
    occurrence: int
    """Which occurrence in the message, from 0."""


def shown_text(message: StoredMessage) -> str:
    """The message's text as its box shows it (an error's is prefixed)."""
    return f"Error: {message.text}" if message.role == "error" else message.text


class Find:
    """The occurrences of `term`, oldest first; the cursor starts on the newest (a chat is
    read from the bottom) and wraps around."""

    def __init__(self, term: str, messages: list[StoredMessage]) -> None:
        """`messages`: every message of the tab that holds the term, oldest first."""
        self.term = term
        found = text_pattern(term) if term else None
        self.hits: list[Hit] = []
        for message in messages:
            count = len(found.findall(shown_text(message))) if found else 0
            self.hits.extend(Hit(message.msg_id, message.row, k) for k in range(count))
        self.index = len(self.hits) - 1

    @property
    def current(self) -> Hit | None:
        return self.hits[self.index] if self.hits else None

    def step(self, delta: int) -> Hit | None:
        """Move to an older (-1) or newer (+1) occurrence, wrapping around."""
        if self.hits:
            self.index = (self.index + delta) % len(self.hits)
        return self.current

    def go_to(self, msg_id: str) -> Hit | None:
        """The first occurrence in this message, if it has one."""
        for index, hit in enumerate(self.hits):
            if hit.msg_id == msg_id:
                self.index = index
                return hit
        return None

    @property
    def summary(self) -> str:
        if not self.term:
            return ""
        if not self.hits:
            return "no match"
        return f"{self.index + 1} of {len(self.hits)}"
