"""Which sent message a reply belongs to, sans I/O.

The server answers one socket's messages strictly in order, so replies map to a FIFO of the
messages written and not yet answered. A drop ends every awaited reply as interrupted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Awaited:
    msg_id: str
    chunks: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


class ReplyTracker:
    def __init__(self) -> None:
        self._awaiting: deque[Awaited] = deque()

    def sent(self, msg_id: str) -> None:
        self._awaiting.append(Awaited(msg_id))

    @property
    def current(self) -> Awaited | None:
        return self._awaiting[0] if self._awaiting else None

    def chunk(self, text: str) -> Awaited | None:
        """Record a chunk for the reply being written; None if no message awaits one."""
        if not self._awaiting:
            return None
        self._awaiting[0].chunks.append(text)
        return self._awaiting[0]

    def finish(self) -> Awaited | None:
        """The reply that a `complete` or `error` frame ends."""
        return self._awaiting.popleft() if self._awaiting else None

    def drop_all(self) -> list[Awaited]:
        dropped = list(self._awaiting)
        self._awaiting.clear()
        return dropped

    def __len__(self) -> int:
        return len(self._awaiting)
