"""An agent's work as the client holds it (docs/protocol.md §4.2, §4.3): tool calls, the plan,
approvals. Decoded defensively from frames and from the stored history: a field of the wrong
type is dropped or given a default, never raised; every text is clean and bounded. Plain
values, no I/O: the protocol, the store, the app and `send` share them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from tui.client.frames import clean_text

Kind = Literal[
    "read", "edit", "delete", "move", "search", "execute", "think", "fetch", "delegate", "other"
]
KINDS: frozenset[str] = frozenset(
    ("read", "edit", "delete", "move", "search", "execute", "think", "fetch", "delegate", "other")
)
Status = Literal["pending", "running", "completed", "failed"]
STATUSES: frozenset[str] = frozenset(("pending", "running", "completed", "failed"))
PLAN_STATUSES: frozenset[str] = frozenset(("pending", "in_progress", "completed"))
DECISIONS = ("allow_once", "allow_session", "deny")

ICONS = {
    "read": "→",
    "edit": "✎",
    "delete": "✗",
    "move": "⇄",
    "search": "⌕",
    "execute": "$",
    "think": "∴",
    "fetch": "⇣",
    "delegate": "⤷",
    "other": "•",
}
"""How each kind of tool call is marked, on screen and on `send`'s stderr."""
MARKS = {"pending": "? asks", "running": "⋯", "completed": "✓", "failed": "✗ failed"}
SAID = {"allow_once": "allowed once", "allow_session": "allowed for the session", "deny": "denied"}
"""How an answer to the agent's question reads."""

MAX_TEXT = 64 * 1024
"""Characters of any one text of an item kept (the server cuts at 16 Ki; a hostile one may not)."""
MAX_ITEMS = 2000
"""Tool calls kept per reply; later ones replace nothing and are counted."""
MAX_PLAN = 200


def _text(value: object, limit: int = MAX_TEXT) -> str:
    return clean_text(value)[:limit] if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


@dataclass(frozen=True)
class Location:
    path: str
    line: int | None = None


@dataclass(frozen=True)
class Diff:
    path: str
    old: str
    new: str
    omitted: int = 0


@dataclass(frozen=True)
class ActivityItem:
    """One tool call as last reported; `at`: how many characters of the reply came before it."""

    id: str
    kind: Kind
    title: str
    status: Status
    at: int = 0
    locations: tuple[Location, ...] = ()
    input: str = ""
    output: str = ""
    input_omitted: int = 0
    output_omitted: int = 0
    diff: Diff | None = None
    duration_ms: int | None = None

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed")

    @property
    def took(self) -> str:
        """` · 120 ms`, ` · 3.9 s` once done with a duration; else ''."""
        ms = self.duration_ms
        if ms is None:
            return ""
        return f" · {ms} ms" if ms < 1000 else f" · {ms / 1000:.1f} s"

    def wire(self) -> dict[str, Any]:
        """As the server sends it (and the store keeps it), `at` included."""
        item: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "status": self.status,
            "at": self.at,
        }
        if self.locations:
            item["locations"] = [
                {"path": loc.path, **({"line": loc.line} if loc.line is not None else {})}
                for loc in self.locations
            ]
        for name in ("input", "output", "input_omitted", "output_omitted", "duration_ms"):
            value = getattr(self, name)
            if value:
                item[name] = value
        if self.diff is not None:
            item["diff"] = {
                "path": self.diff.path,
                "old": self.diff.old,
                "new": self.diff.new,
                **({"omitted": self.diff.omitted} if self.diff.omitted else {}),
            }
        return item


def item_of(data: object, at: object = None) -> ActivityItem | None:
    """A tool call from a frame's `item` (or a stored one); None without an id."""
    if not isinstance(data, dict):
        return None
    item_id = _text(data.get("id"), 256)
    if not item_id:
        return None
    kind = data.get("kind")
    status = data.get("status")
    locations = data.get("locations")
    places = []
    for loc in locations[:50] if isinstance(locations, list) else ():
        if isinstance(loc, dict) and (path := _text(loc.get("path"), 4096)):
            line = loc.get("line")
            places.append(Location(path, line if _count(line) else None))
    diff_data = data.get("diff")
    diff = None
    if isinstance(diff_data, dict) and (path := _text(diff_data.get("path"), 4096)):
        diff = Diff(
            path,
            _text(diff_data.get("old")),
            _text(diff_data.get("new")),
            _count(diff_data.get("omitted")),
        )
    duration = data.get("duration_ms")
    return ActivityItem(
        id=item_id,
        kind=cast(Kind, kind) if kind in KINDS else "other",
        title=_text(data.get("title"), 500) or "(untitled)",
        status=cast(Status, status) if status in STATUSES else "running",
        at=_count(at if at is not None else data.get("at")),
        locations=tuple(places),
        input=_text(data.get("input")),
        output=_text(data.get("output")),
        input_omitted=_count(data.get("input_omitted")),
        output_omitted=_count(data.get("output_omitted")),
        diff=diff,
        duration_ms=_count(duration) if duration is not None else None,
    )


@dataclass(frozen=True)
class PlanEntry:
    content: str
    status: str = "pending"


def plan_of(data: object) -> tuple[PlanEntry, ...]:
    entries = []
    for entry in data[:MAX_PLAN] if isinstance(data, list) else ():
        if isinstance(entry, dict) and (content := _text(entry.get("content"), 1000)):
            status = entry.get("status")
            entries.append(PlanEntry(content, status if status in PLAN_STATUSES else "pending"))
    return tuple(entries)


@dataclass(frozen=True)
class Approval:
    """The agent asks to run a tool (docs/protocol.md §4.3)."""

    id: str
    item: ActivityItem
    options: tuple[str, ...] = DECISIONS
    timeout_s: float | None = None
    reply_to: str | None = None

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item.wire(),
            "options": list(self.options),
            **({"timeout_s": self.timeout_s} if self.timeout_s is not None else {}),
            **({"reply_to": self.reply_to} if self.reply_to else {}),
        }


def approval_of(data: object, reply_to: str | None = None) -> Approval | None:
    if not isinstance(data, dict):
        return None
    approval_id = _text(data.get("id"), 256)
    item = item_of(data.get("item"))
    if not approval_id or item is None:
        return None
    options = data.get("options")
    known = tuple(o for o in options if o in DECISIONS) if isinstance(options, list) else ()
    timeout = data.get("timeout_s")
    return Approval(
        approval_id,
        item,
        known or DECISIONS,
        float(timeout)
        if isinstance(timeout, int | float) and not isinstance(timeout, bool)
        else None,
        reply_to or (_text(data.get("reply_to"), 256) or None),
    )


@dataclass(frozen=True)
class Answer:
    """How one of the agent's questions was answered: by whom, about which tool call."""

    approval_id: str
    item_id: str
    decision: str
    by: str

    def wire(self) -> dict[str, str]:
        return {
            "id": self.approval_id,
            "item": self.item_id,
            "decision": self.decision,
            "by": self.by,
        }


def answers_of(data: object) -> tuple[Answer, ...]:
    found = []
    for entry in data[:MAX_ITEMS] if isinstance(data, list) else ():
        if isinstance(entry, dict) and entry.get("decision") in DECISIONS:
            found.append(
                Answer(
                    _text(entry.get("id"), 256),
                    _text(entry.get("item"), 256),
                    str(entry["decision"]),
                    _text(entry.get("by"), 256) or "unknown",
                )
            )
    return tuple(found)


@dataclass(frozen=True)
class Activity:
    """What an agent did in one reply: its tool calls in the order they first came (each as
    last reported), its last plan, what it cost."""

    items: tuple[ActivityItem, ...] = ()
    plan: tuple[PlanEntry, ...] = ()
    usage: tuple[tuple[str, float], ...] = ()
    answers: tuple[Answer, ...] = ()
    """The agent's questions, as they were answered (docs/protocol.md §4.3)."""

    def __bool__(self) -> bool:
        return bool(self.items or self.plan)

    def answered(self, answer: Answer) -> Activity:
        return replace(self, answers=(*self.answers, answer)[-MAX_ITEMS:])

    def answer_for(self, item_id: str) -> Answer | None:
        """How the question about this tool call was answered, if one was asked."""
        return next((a for a in reversed(self.answers) if a.item_id == item_id), None)

    def with_item(self, item: ActivityItem) -> Activity:
        """The item added, or replacing the one with its id (keeping where it first came)."""
        for index, old in enumerate(self.items):
            if old.id == item.id:
                items = list(self.items)
                items[index] = replace(item, at=old.at)
                return replace(self, items=tuple(items))
        if len(self.items) >= MAX_ITEMS:
            return self
        return replace(self, items=(*self.items, item))

    @property
    def current(self) -> ActivityItem | None:
        """What the agent is doing right now: the last tool call not done."""
        return next((i for i in reversed(self.items) if not i.done), None)

    def dumps(self) -> str | None:
        if not self:
            return None
        return json.dumps(
            {
                "activity": [i.wire() for i in self.items],
                "plan": [{"content": e.content, "status": e.status} for e in self.plan],
                **({"usage": dict(self.usage)} if self.usage else {}),
                **({"answers": [a.wire() for a in self.answers]} if self.answers else {}),
            },
            ensure_ascii=False,
        )


def activity_of(metadata: object) -> Activity:
    """From a stored reply (`dumps`) or the server's history metadata (§4.2 *In the history*)."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return Activity()
    if not isinstance(metadata, dict):
        return Activity()
    raw = metadata.get("activity")
    items = [i for i in map(item_of, raw[:MAX_ITEMS] if isinstance(raw, list) else ()) if i]
    usage = metadata.get("usage")
    counts = (
        tuple(
            (clean_text(k)[:64], number)
            for k, v in usage.items()
            if (number := _number(v)) is not None
        )
        if isinstance(usage, dict)
        else ()
    )
    return Activity(
        tuple(items), plan_of(metadata.get("plan")), counts, answers_of(metadata.get("answers"))
    )
