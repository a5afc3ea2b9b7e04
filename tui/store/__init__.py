"""Local history: tabs, drafts, settings and every message, in SQLite in the data dir.

Messages are appended as they happen (user message on send, assistant message when complete,
partial replies when cut) and only their status is updated in place, so a long history costs
nothing per message. There is no cap: the app loads the most recent window and pages back.
A closed tab's row and messages stay on disk.
"""

from tui.store.history import ChatStore, device_id_of
from tui.store.records import (
    STATUSES,
    UNOWNED,
    LocalSession,
    SearchHit,
    Status,
    StoredMessage,
    StoreError,
    TabRow,
    status_of,
)
from tui.store.schema import SCHEMA_VERSION
from tui.store.search import text_pattern

__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "UNOWNED",
    "ChatStore",
    "LocalSession",
    "SearchHit",
    "Status",
    "StoreError",
    "StoredMessage",
    "TabRow",
    "device_id_of",
    "status_of",
    "text_pattern",
]
