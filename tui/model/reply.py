"""A tab's reply in flight: the one owner of what is known about the reply being written.

Its invariants, written down (they were six loose fields on the tab):
- `parts` is None exactly when no new reply is being streamed; then `answers` is None too.
- `reopened` is a stored reply cut when the app last closed, which the resumed stream is
  finishing; it and `parts` are not both set.
- `seq` is the number of the last reply frame saved with the text it covers (delivery
  extension), so a restart resumes after it; `replaying_all` holds from a first resume that asks
  for every frame (no number saved yet) until the server says the replay is over.
- `save_due` is the pending save of the reply being streamed, if one is scheduled.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tui.store import StoredMessage


@dataclass
class ReplyInFlight:
    parts: list[str] | None = None
    """The reply being streamed, in the pieces it came in (joined when read: adding a chunk
    must not copy the whole reply, or a 10 MiB reply takes minutes)."""
    answers: str | None = None
    """The message it answers."""
    reopened: StoredMessage | None = None
    """A reply cut when the app closed that the resumed stream is finishing."""
    replaying_all: bool = False
    """The first resume asks for the session's every frame (no number saved yet: a session
    whose history came from the backend): a reply cut short is streamed again from its start."""
    seq: int | None = None
    """The number of the last reply frame saved (delivery extension)."""
    save_due: asyncio.TimerHandle | None = None

    @property
    def text(self) -> str | None:
        """The reply being streamed as one text (None: none is)."""
        parts = self.parts
        if parts is None:
            return None
        if len(parts) > 1:
            parts[:] = ["".join(parts)]  # read again, it costs nothing until more comes
        return parts[0] if parts else ""

    @property
    def size(self) -> int:
        return sum(map(len, self.parts or ()))

    def begin(self, answers: str | None) -> None:
        """A new reply starts streaming."""
        self.parts, self.answers = [], answers

    def add(self, text: str) -> None:
        assert self.parts is not None, "begin() first"
        self.parts.append(text)

    def take(self) -> str | None:
        """The reply ends: its text (None: none was streaming); nothing is in flight after."""
        text = self.text
        self.parts, self.answers = None, None
        return text

    def cancel_save(self) -> None:
        if self.save_due is not None:
            self.save_due.cancel()
            self.save_due = None
