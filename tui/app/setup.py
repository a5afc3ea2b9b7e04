"""What the app is given to start: everything resolved before it runs (see
tui.commands.chat), so a test or the harness can hand in any backend, store or clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui.client.backoff import Backoff
from tui.store import ChatStore
from tui.system.local_backend import StartBackend


@dataclass
class ChatSetup:
    """Everything the app needs, resolved before it starts (see tui.commands.chat)."""

    store: ChatStore
    device_id: str
    url: str | None
    """None: demo mode, on the backend `start_backend` starts."""
    token: str | None
    start_backend: StartBackend | None = None
    """Demo mode's backend (the CLI hands in the bundled mock)."""
    backoff: Callable[[], Backoff] = Backoff
    open_session: str | None = None
    """A session to show in a tab at start (`builderos chat --session`), with the backend's
    history of it when the backend keeps one."""
    max_reply: int | None = None
    """The longest reply kept, in characters (None: tui.client.protocol.MAX_REPLY_CHARS)."""
    freeze_startup_objects: bool = False
    """Move what startup allocated out of the garbage collector's sight (gc.freeze). Python's
    full collections scan every live object, and the app's own widgets and styles made pauses of
    up to 180 ms while a reply streamed. Only for a process that runs one app (the CLI, the
    benchmarks): frozen objects are never collected, so a test run of many apps would keep all."""
