"""What an agent behind the mock is: given one user message, it reports what it does as it does
it (`events`), asks the clients before a tool runs when it must (`Ask`), and is cancelled by
`stop` (cancelling the iteration: an adapter ends its process in `finally`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mock_backend.agents.events import AgentEvent, PermissionAnswer, PermissionRequest

Ask = Callable[[PermissionRequest], Awaitable[PermissionAnswer]]
"""Put a permission request to the clients; returns their answer (or the timeout's)."""


@dataclass(frozen=True)
class AgentTurn:
    session_id: str
    """The BuilderOS session (`{deviceId}-{provider}-{tabId}`)."""
    provider: str
    """The endpoint asked: `claude` (Jarvis) or `codex`."""
    message: str
    attachments: tuple[Path, ...] = ()
    """Local paths of the files uploaded with the message."""
    resume: str | None = None
    """The agent's own id for this conversation, from an earlier `AgentSession` event."""
    workdir: Path | None = None
    """Where the agent works (its CLAUDE.md, the files it edits)."""
    context: dict[str, Any] = field(default_factory=dict)
    """What the BridgeHub relay needs (its request: history, capsule, system context)."""


class AgentAdapter(Protocol):
    name: str
    """How `/api/health` and the logs name it."""

    def events(self, turn: AgentTurn, ask: Ask) -> AsyncGenerator[AgentEvent, None]:
        """The turn, as it happens; ends when the agent's answer is whole. Raises AgentFailed
        with a sentence for the user when it cannot answer."""
        ...

    async def close(self, session_id: str) -> None:
        """The session is closed: end whatever runs for it."""
        ...

    async def shutdown(self) -> None:
        """The backend stops: end every process."""
        ...

    def health(self) -> dict[str, Any]: ...
