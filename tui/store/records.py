"""What the history holds, as plain records: tabs, messages and their statuses, search hits,
sessions; and the one error every part of the store raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from tui.client import attachments
from tui.client.activity import Activity, activity_of
from tui.client.attachments import Attachment

UNOWNED = ""
"""The backend of tabs made before tabs had one: the next backend opened adopts them."""


class StoreError(Exception):
    """Local storage failed; the text says what and where (the UI shows it, loses nothing)."""


@dataclass(frozen=True)
class TabRow:
    tab_id: str
    position: int
    provider: str
    title: str
    session_id: str
    draft: str
    draft_attachments: tuple[Attachment, ...] = ()


Status = Literal[
    "pending",
    "sent",
    "acknowledged",
    "not_confirmed",
    "replying",
    "complete",
    "interrupted",
    "stopped",
    "error",
]
"""Where a stored message stands (see `StoredMessage.status`): a Literal, so mypy checks every
status written or compared (a typo is a type error, not a message that never changes)."""
STATUSES: frozenset[str] = frozenset(get_args(Status))


def status_of(value: object, default: Status = "complete") -> Status:
    """A status read from a file or the network: one of `Status`, else `default`."""
    return cast(Status, value) if isinstance(value, str) and value in STATUSES else default


@dataclass(frozen=True)
class StoredMessage:
    msg_id: str
    role: str
    """`user`, `assistant` or `error`."""
    text: str
    status: Status
    """user: `pending` (queued) → `sent` (written) → `acknowledged` (the server has it), or
    `not_confirmed` (written to a socket that dropped, on a server that does not acknowledge);
    assistant: `replying` → `complete`, `interrupted` or `stopped`; error: `error`."""
    timestamp: str
    row: int = 0
    attachments: tuple[Attachment, ...] = ()
    """Files uploaded with a user message."""
    activity: Activity = field(default_factory=Activity)
    """What the agent did in a reply: tool calls, plan, usage (docs/protocol.md §4.2)."""
    device: str | None = None
    """A message sent from another device (sync): that device, as shown ("PHONE"); None for
    this device's own and for replies."""


MESSAGE_COLUMNS = "msg_id, role, text, status, timestamp, id, attachments, activity, device"
"""The columns `message_of` reads, in its order."""


def message_of(row: tuple[Any, ...]) -> StoredMessage:
    msg_id, role, text, status, timestamp, number, attached, did, device = row
    return StoredMessage(
        msg_id,
        role,
        text,
        status_of(status),
        timestamp,
        number,
        attachments.loads(attached),
        activity_of(did) if did else Activity(),
        device,
    )


@dataclass(frozen=True)
class SearchHit:
    session_id: str
    msg_id: str
    role: str
    status: str
    timestamp: str
    row: int
    tab_id: str
    """The tab the session belongs to ('' if none on this machine)."""
    title: str
    open: bool
    """Its tab is open."""
    snippet: str
    """The words around the match, the match in [brackets]."""
    excerpt: str = ""
    """The same words without the brackets (a screen marks the match its own way)."""
    marks: tuple[tuple[int, int], ...] = ()
    """Where the words found are in `excerpt`: (start, end) pairs."""


@dataclass(frozen=True)
class LocalSession:
    session_id: str
    messages: int
    last_activity: str
    provider: str
    title: str
    tab_id: str
    backend: str
    open: bool
    asking: int = 0
    """The agent's questions still open in it (docs/protocol.md §4.3)."""
