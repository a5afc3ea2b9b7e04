"""A tab's connection state, and the words the UI shows for it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

TOKEN_FIX = "restart with --token or BUILDEROS_TOKEN, or save one: builderos chat --save"
"""How to fix a refused token: the token is read at start, so F5 alone retries the same one."""


class Phase(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    UNREACHABLE = "unreachable"
    NOT_FOUND = "not_found"
    """The host name does not resolve."""
    NO_ANSWER = "no_answer"
    """The server took the connection but never answered the handshake."""
    AUTH_FAILED = "auth_failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ConnectionState:
    phase: Phase
    detail: str = ""
    retry_at: float | None = None
    """Monotonic time of the next automatic attempt, while waiting for it."""

    def seconds_left(self, now: float) -> int | None:
        if self.retry_at is None:
            return None
        return max(0, math.ceil(self.retry_at - now))

    def label(self, now: float) -> str:
        """One line for the status bar: what is happening and what happens next."""
        left = self.seconds_left(now)
        retry = f"retrying in {left} s" if left else "retrying now"
        match self.phase:
            case Phase.CONNECTING:
                return "connecting…"
            case Phase.CONNECTED:
                return "connected"
            case Phase.RECONNECTING:
                return f"reconnecting in {left} s" if left else "reconnecting…"
            case Phase.UNREACHABLE:
                return f"cannot reach {self.detail} — {retry}"
            case Phase.NOT_FOUND:
                return f"host name not found: {self.detail} — check the URL; {retry}"
            case Phase.NO_ANSWER:
                return f"{self.detail} took the connection but never answered — {retry}"
            case Phase.AUTH_FAILED:
                return f"token refused ({self.detail}) — {TOKEN_FIX}; F5 retries the same one"
            case Phase.STOPPED:
                return "disconnected"

    @property
    def icon(self) -> str:
        """A glyph for the tab label: the state at a glance."""
        return {
            Phase.CONNECTING: "◌",
            Phase.CONNECTED: "●",
            Phase.RECONNECTING: "↻",
            Phase.UNREACHABLE: "✕",
            Phase.NOT_FOUND: "✕",
            Phase.NO_ANSWER: "✕",
            Phase.AUTH_FAILED: "⚠",
            Phase.STOPPED: "○",
        }[self.phase]
