"""Every session within reach, as one list: the backend's (`GET /api/sessions`) and this
machine's (closed tabs included), with where each is open. Plain data: `builderos sessions`
prints it and the app's session browser draws it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from tui.client.history import RemoteSession
from tui.client.inert import inert_line, inert_name
from tui.store import LocalSession


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    provider: str
    device_id: str
    messages: int
    last_activity: str
    where: str
    """`open here`, `closed here`, `this device` or `device <id>`."""
    title: str
    on_backend: bool
    asking: int = 0
    """The agent's questions still open in it, on this machine."""
    busy: bool = False
    """A reply is being written in it now (a backend with sync says)."""
    on: tuple[str, ...] = ()
    """The devices on it now, as shown (a backend with sync says)."""

    @property
    def live(self) -> str:
        """`replying · on PHONE, mac`: what is happening in it now ("" for nothing)."""
        said = ["replying"] if self.busy else []
        if self.on:
            said.append(
                f"on {', '.join(self.on[:3])}"
                + (f" +{len(self.on) - 3}" if len(self.on) > 3 else "")
            )
        return " · ".join(said)

    @property
    def open_here(self) -> bool:
        return self.where == "open here"

    @property
    def other_device(self) -> bool:
        return self.where.startswith("device ")

    @cached_property
    def shown(self) -> str:
        """What the filter looks in: the row as the browser shows it, in one case; made once
        per row, so a keystroke costs a substring test per row and no more."""
        return (
            f"{self.provider} {inert_line(self.title)} {inert_name(self.where)} "
            f"{inert_name(self.session_id)}{' asks' if self.asking else ''} {inert_line(self.live)}"
        ).casefold()

    def matches(self, text: str) -> bool:
        """Every word of `text` is in the row as shown (filter as you type)."""
        return self.has(filter_words(text))

    def has(self, words: Sequence[str]) -> bool:
        """Every one of `words` (from `filter_words`) is in the row as shown."""
        shown = self.shown
        return all(word in shown for word in words)


def filter_words(text: str) -> list[str]:
    """The words of a filter as typed, split and folded once for every row."""
    return text.casefold().split()


def matching(rows: Iterable[SessionRow], text: str) -> list[SessionRow]:
    """The rows that hold every word of `text`, in their order."""
    words = filter_words(text)
    return [row for row in rows if row.has(words)] if words else list(rows)


def merge(remote: Iterable[RemoteSession], local: list[LocalSession], me: str) -> list[SessionRow]:
    """One row per session, the most recent first: the backend's count and device where it
    keeps the session, this machine's title and tab where it has one."""
    here = {s.session_id: s for s in local}
    rows = []
    for r in remote:
        mine = here.pop(r.session_id, None)
        if mine is not None:
            where = "open here" if mine.open else "closed here"
        else:
            where = "this device" if r.device_id == me else f"device {r.device_id or '?'}"
        title = mine.title if mine else ""
        rows.append(
            SessionRow(
                r.session_id,
                r.provider,
                r.device_id,
                r.messages,
                r.last_activity,
                where,
                title,
                True,
                mine.asking if mine else 0,
                r.busy,
                tuple(d.label for d in r.devices),
            )
        )
    for mine in here.values():
        rows.append(
            SessionRow(
                mine.session_id,
                mine.provider or _provider_of(mine.session_id),
                me,
                mine.messages,
                mine.last_activity,
                "open here" if mine.open else "closed here",
                mine.title,
                False,
                mine.asking,
            )
        )
    rows.sort(key=lambda row: row.last_activity, reverse=True)
    return rows


def _provider_of(session_id: str) -> str:
    return "codex" if "-codex-" in session_id else "claude"
