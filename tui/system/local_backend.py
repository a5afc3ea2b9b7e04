"""A backend the app starts for itself (demo mode), as the app sees it.

The app never imports the bundled mock: the CLI, which decides the app runs in demo mode,
hands it a `StartBackend` (see `tui.commands.demo_backend`). So the client has no
dependency on the server, and a test can give the app any backend it likes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol


class LocalBackend(Protocol):
    """Running, with a base URL and a token; stopped when the app quits."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...

    async def stop(self) -> None: ...


class BackendDidNotStart(Exception):
    """The local backend could not start; the text says why (shown, then the app exits)."""


StartBackend = Callable[[], Awaitable[LocalBackend]]
