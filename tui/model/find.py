"""Find in one tab (ctrl+f): every occurrence of a text in the tab's history, loaded or not,
and a cursor that steps through them. Plain data: the chat view draws it.

Occurrences are counted per message, not listed: a one-letter search in 10,000 messages finds
some 600,000 of them, and the cursor only needs to know in which message the n-th one is."""

from __future__ import annotations

from bisect import bisect_right
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

    def __init__(self, term: str, counts: list[tuple[str, int, int]]) -> None:
        """`counts`: (msg_id, row, occurrences) of each message of the tab that shows the
        term, oldest first (`ChatStore.occurrences`)."""
        self.term = term
        self._messages: list[tuple[str, int]] = []
        self._ends: list[int] = []
        """How many occurrences there are up to and including each message."""
        total = 0
        for msg_id, row, count in counts:
            if count > 0:
                total += count
                self._messages.append((msg_id, row))
                self._ends.append(total)
        self.total = total
        self.index = total - 1

    @classmethod
    def among(cls, term: str, messages: list[StoredMessage]) -> Find:
        """Find in these messages only (what is loaded, when the store cannot be read)."""
        found = text_pattern(term) if term else None
        return cls(
            term,
            [
                (m.msg_id, m.row, sum(1 for _ in found.finditer(shown_text(m))))
                for m in messages
                if found is not None
            ],
        )

    def hit(self, index: int) -> Hit:
        """The `index`-th occurrence, from 0."""
        number = bisect_right(self._ends, index)
        msg_id, row = self._messages[number]
        return Hit(msg_id, row, index - (self._ends[number - 1] if number else 0))

    @property
    def current(self) -> Hit | None:
        return self.hit(self.index) if self.total else None

    def step(self, delta: int) -> Hit | None:
        """Move to an older (-1) or newer (+1) occurrence, wrapping around."""
        if self.total:
            self.index = (self.index + delta) % self.total
        return self.current

    def go_to(self, msg_id: str) -> Hit | None:
        """The first occurrence in this message, if it has one."""
        for number, (found, _) in enumerate(self._messages):
            if found == msg_id:
                self.index = self._ends[number - 1] if number else 0
                return self.current
        return None

    @property
    def summary(self) -> str:
        if not self.term:
            return ""
        if not self.total:
            return "no match"
        return f"{self.index + 1:,} of {self.total:,}"
