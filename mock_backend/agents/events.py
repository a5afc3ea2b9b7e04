"""What an agent reports while it works, in the order it happened: the one vocabulary every agent
behind the mock speaks (the simulated one, BridgeHub, Claude Code, Codex), and the turn turns
into frames (docs/protocol.md Part 4). Plain values, no I/O.

The words are the Agent Client Protocol's (`session/update`): a tool call has a stable id, a
kind, a title and a status, and is reported again whole each time it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "read", "edit", "delete", "move", "search", "execute", "think", "fetch", "delegate", "other"
]
KINDS: tuple[Kind, ...] = (
    "read",
    "edit",
    "delete",
    "move",
    "search",
    "execute",
    "think",
    "fetch",
    "delegate",
    "other",
)
ToolStatus = Literal["pending", "running", "completed", "failed"]
PlanStatus = Literal["pending", "in_progress", "completed"]
Decision = Literal["allow_once", "allow_session", "deny"]
DECISIONS: tuple[Decision, ...] = ("allow_once", "allow_session", "deny")

MAX_FIELD = 16 * 1024
"""Characters of a tool call's input or output kept in a frame; the rest is counted."""
MAX_DIFF = 64 * 1024
"""Characters of each side of an edit's diff kept in a frame."""


def cut(text: str, limit: int = MAX_FIELD) -> tuple[str, int]:
    """`text` within `limit` characters, and how many were left out (the end is kept whole:
    a command's last lines say how it ended)."""
    if len(text) <= limit:
        return text, 0
    head = limit // 4
    tail = limit - head
    return f"{text[:head]}\n…\n{text[-tail:]}", len(text) - limit


@dataclass(frozen=True)
class Location:
    path: str
    line: int | None = None

    def wire(self) -> dict[str, Any]:
        return {"path": self.path, **({"line": self.line} if self.line is not None else {})}


@dataclass(frozen=True)
class Diff:
    """An edit: the file's text before (empty for a new file) and after."""

    path: str
    old: str
    new: str

    def wire(self) -> dict[str, Any]:
        old, old_cut = cut(self.old, MAX_DIFF)
        new, new_cut = cut(self.new, MAX_DIFF)
        out: dict[str, Any] = {"path": self.path, "old": old, "new": new}
        if old_cut or new_cut:
            out["omitted"] = old_cut + new_cut
        return out


@dataclass(frozen=True)
class TextDelta:
    """More of the reply's text, as the agent wrote it."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """A tool call as it stands now (reported again, whole, each time it changes)."""

    id: str
    kind: Kind
    title: str
    status: ToolStatus
    locations: tuple[Location, ...] = ()
    input: str = ""
    output: str = ""
    diff: Diff | None = None
    duration_ms: int | None = None
    """Once done: how long it took."""

    def wire(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "status": self.status,
        }
        if self.locations:
            item["locations"] = [loc.wire() for loc in self.locations]
        if self.input:
            item["input"], omitted = cut(self.input)
            if omitted:
                item["input_omitted"] = omitted
        if self.output:
            item["output"], omitted = cut(self.output)
            if omitted:
                item["output_omitted"] = omitted
        if self.diff is not None:
            item["diff"] = self.diff.wire()
        if self.duration_ms is not None:
            item["duration_ms"] = self.duration_ms
        return item


@dataclass(frozen=True)
class PlanEntry:
    content: str
    status: PlanStatus = "pending"


@dataclass(frozen=True)
class Plan:
    """The agent's plan, whole (it replaces the one before)."""

    entries: tuple[PlanEntry, ...]

    def wire(self) -> list[dict[str, str]]:
        return [{"content": e.content, "status": e.status} for e in self.entries]


@dataclass(frozen=True)
class Usage:
    """What the turn cost, when the agent says."""

    tokens: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None


@dataclass(frozen=True)
class AgentSession:
    """The agent's own id for this conversation (Claude Code's session id, Codex's thread id):
    kept with the BuilderOS session, handed back as `AgentTurn.resume` to continue it."""

    id: str


@dataclass(frozen=True)
class Skipped:
    """An event the adapter did not understand (an unknown type, a line that is not JSON):
    counted and logged, never fatal."""

    what: str


AgentEvent = TextDelta | ToolCall | Plan | Usage | AgentSession | Skipped


@dataclass(frozen=True)
class PermissionRequest:
    """The agent asks to run a tool: the clients decide (docs/protocol.md Part 4)."""

    tool_call: ToolCall
    """What it wants to do (its kind, title, input, diff)."""


@dataclass(frozen=True)
class PermissionAnswer:
    decision: Decision
    by: str
    """Who decided: a device id, `timeout`, or the server's policy (`policy`)."""
    reason: str = ""


class AgentFailed(Exception):
    """The agent could not answer; the text says what to do, and is shown to the user."""
