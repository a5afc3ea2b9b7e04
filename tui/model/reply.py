"""A tab's reply in flight: the one owner of what is known about the reply being written.

A sans-I/O state machine, after the websockets library's `Protocol`: the workspace hands it
what the connection reported (`chunk`, `end`) with the stored reply it may finish, and gets
back what happened, as new message values; the workspace does the saving and the telling. No
store, no socket, no clock: tests drive it directly.

Its states (`state`), and what holds in each:
- IDLE: nothing is being written; `answers` is None.
- STREAMING: a new reply arrives in pieces (`text`), answering `answers`.
- REOPENED: a stored reply cut when the app last closed is being finished by the resumed
  stream; `reopened` is its latest value (the one in the tab's messages).

Frame numbers: the protocol owns the number of the last frame *handled*; this object owns
`saved_seq`, the number of the last frame whose text is *saved* (delivery extension). They
differ on purpose: a restart resumes after the saved one, so nothing handled but unsaved is
lost. `replaying_all` holds from a first resume that asks for every frame (nothing saved yet)
until the server says the replay is over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from tui.client.activity import Activity, ActivityItem, Answer, PlanEntry
from tui.client.ids import new_id
from tui.store import Status, StoredMessage

WHOLE: tuple[Status, ...] = ("complete", "stopped", "error")
"""A reply stored in one of these states is whole: a replay of its frames adds nothing."""
SAVE_EVERY = 0.5
"""Seconds between saves of a reply being streamed (a crash loses at most this much, and
resume brings it back)."""
SAVE_SCALE = 128 * 1024
"""Per this many characters of a reply, the wait between its saves grows by SAVE_EVERY: each
save writes (and indexes for search) the whole reply so far, so a 10 MiB reply saved twice a
second would spend all its time saving and none drawing."""


def reply_id(msg_id: str) -> str:
    """The stored id of the reply to a message: one reply per message, saved in place."""
    return f"{msg_id}:reply"


class ReplyState(StrEnum):
    IDLE = "idle"
    STREAMING = "streaming"
    REOPENED = "reopened"


# what happened, as the workspace is told -------------------------------------------------------


@dataclass(frozen=True)
class Began:
    """A new reply began streaming: the message it answers has reached the server."""

    answers: str | None
    text: str


@dataclass(frozen=True)
class Grew:
    """The reply streaming grew by `text`."""

    text: str


@dataclass(frozen=True)
class Worked:
    """The agent's work on the reply changed (a tool call, the plan): `began`, a new reply
    began with it (work can come before any text)."""

    began: bool


@dataclass(frozen=True)
class Reopened:
    """The stored reply being finished grew: `message` is its new value. `first`: the
    resumed stream just took it up (the tab starts showing a reply being written)."""

    message: StoredMessage
    first: bool


@dataclass(frozen=True)
class Ended:
    """The reply is whole: `message` is it, to store and show. `finishes`: the stored reply it
    replaces in place (a reopened one); None: it is new, after the rest."""

    message: StoredMessage
    finishes: StoredMessage | None


Step = Began | Grew | Reopened


@dataclass
class ReplyInFlight:
    parts: list[str] | None = None
    """The reply being streamed, in the pieces it came in (joined when read: adding a chunk
    must not copy the whole reply, or a 10 MiB reply takes minutes)."""
    answers: str | None = None
    """The message it answers."""
    reopened: StoredMessage | None = None
    """A reply cut when the app closed that the resumed stream is finishing."""
    replaying_all: bool = False
    """The first resume asks for the session's every frame (no number saved yet: a session
    whose history came from the backend): a reply cut short is streamed again from its start."""
    saved_seq: int | None = None
    """The number of the last reply frame saved with the text it covers (delivery extension)."""
    save_due: asyncio.TimerHandle | None = None
    """The pending save of the reply being streamed, if one is scheduled."""
    activity: Activity = field(default_factory=Activity)
    """What the agent did so far in the reply being streamed (docs/protocol.md §4.2)."""

    @property
    def state(self) -> ReplyState:
        if self.parts is not None:
            return ReplyState.STREAMING
        return ReplyState.IDLE if self.reopened is None else ReplyState.REOPENED

    @property
    def text(self) -> str | None:
        """The reply being streamed as one text (None: none is)."""
        parts = self.parts
        if parts is None:
            return None
        if len(parts) > 1:
            parts[:] = ["".join(parts)]  # read again, it costs nothing until more comes
        return parts[0] if parts else ""

    @property
    def size(self) -> int:
        return sum(map(len, self.parts or ()))

    @property
    def writing(self) -> bool:
        """A reply is being written: a new one, or one cut at the last quit that resumes."""
        return self.state is not ReplyState.IDLE

    # the entry points ----------------------------------------------------------------------------

    def begin(self, answers: str | None) -> None:
        """A new reply starts streaming."""
        self.parts, self.answers, self.activity = [], answers, Activity()

    def add(self, text: str) -> None:
        assert self.parts is not None, "begin() first"
        self.parts.append(text)

    def take(self) -> str | None:
        """The reply ends: its text (None: none was streaming); nothing is in flight after."""
        text = self.text
        self.parts, self.answers = None, None
        return text

    def chunk(self, reply_to: str | None, text: str, stored: StoredMessage | None) -> Step | None:
        """A piece of the reply to `reply_to`; `stored`: that reply as the tab holds it, if it
        does. None: nothing to show (a replay of a reply already whole)."""
        if self.parts is None:
            if stored is not None and stored.status in WHOLE:
                return None
            if stored is not None:  # cut when the app closed; the resumed stream goes on
                first = self.reopened is None
                again = self.replaying_all and self.reopened is not stored  # from its start
                grown = ("" if again else stored.text) + text
                self.reopened = replace(stored, text=grown, status="replying")
                return Reopened(self.reopened, first)
            self.begin(reply_to)
            self.add(text)
            return Began(reply_to, text)
        self.add(text)
        return Grew(text)

    def work(
        self,
        reply_to: str | None,
        stored: StoredMessage | None,
        item: ActivityItem | None = None,
        plan: tuple[PlanEntry, ...] | None = None,
    ) -> Worked | Reopened | None:
        """A tool call (`item`) or the plan of the reply to `reply_to`; `stored`: that reply
        as the tab holds it, if it does. None: a replay of a reply already whole."""

        def updated(activity: Activity) -> Activity:
            activity = activity.with_item(item) if item is not None else activity
            return replace(activity, plan=plan) if plan is not None else activity

        if self.parts is None:
            if stored is not None and stored.status in WHOLE:
                return None
            if stored is not None:  # the reply cut at the last quit goes on working
                first = self.reopened is None
                self.reopened = replace(
                    stored, status="replying", activity=updated(stored.activity)
                )
                return Reopened(self.reopened, first)
            self.begin(reply_to)
            self.activity = updated(self.activity)
            return Worked(began=True)
        self.activity = updated(self.activity)
        return Worked(began=False)

    def answered(self, answer: Answer, stored: StoredMessage | None = None) -> StoredMessage | None:
        """A question of the reply being written was answered: kept with its work. `stored`:
        the reply that asked, as the tab holds it (cut at the last quit, the answer is the
        first thing it hears of after the restart: it is reopened). Returns the reopened
        reply's new value, when it is one."""
        cut = stored is not None and stored.status not in WHOLE
        if self.reopened is None and self.parts is None and stored is not None and cut:
            self.reopened = replace(stored, status="replying")
        if self.reopened is not None:
            self.reopened = replace(self.reopened, activity=self.reopened.activity.answered(answer))
            return self.reopened
        if self.parts is not None:
            self.activity = self.activity.answered(answer)
        return None

    def end(
        self,
        reply_to: str | None,
        status: Status,
        whole: str | None,
        stored: StoredMessage | None,
        now: str,
    ) -> Ended | None:
        """The reply to `reply_to` ended as `status`. `whole`: its text, for a reply that was
        not streamed; `stored`: the reply to `reply_to` the tab holds, if any. None: a replay
        of a reply that ended here already."""
        if self.parts is None and stored is not None:
            if stored.status in WHOLE:
                return None
            self.reopened = None
            return Ended(replace(stored, status=status), stored)
        key = reply_to or self.answers
        activity, self.activity = self.activity, Activity()
        streamed = self.take()
        text = streamed if streamed is not None else whole or ""
        message = StoredMessage(
            reply_id(key) if key else new_id(), "assistant", text, status, now, activity=activity
        )
        return Ended(message, None)

    def progress(self, now: str) -> list[StoredMessage]:
        """What to save of the reply being written, as far as it came."""
        replies = []
        if self.parts is not None and self.answers is not None:
            replies.append(
                StoredMessage(
                    reply_id(self.answers),
                    "assistant",
                    self.text or "",
                    "replying",
                    now,
                    activity=self.activity,
                )
            )
        if self.reopened is not None:
            replies.append(self.reopened)
        return replies

    def resumed(self) -> None:
        """The server's replay is over: later resumes carry only what was missed."""
        self.replaying_all = False

    def saved(self, seq: int | None) -> None:
        """The reply as far as frame `seq` is on disk (None: no number to keep)."""
        self.cancel_save()
        if seq is not None:
            self.saved_seq = seq

    # saving while it streams -------------------------------------------------------------------

    def save_soon(self, save: Callable[[], object]) -> None:
        """Call `save` after a while, unless a save is due already; the wait grows with the
        reply (see SAVE_SCALE)."""
        if self.save_due is None:
            wait = SAVE_EVERY * max(1.0, self.size / SAVE_SCALE)
            self.save_due = asyncio.get_running_loop().call_later(wait, save)

    def cancel_save(self) -> None:
        if self.save_due is not None:
            self.save_due.cancel()
            self.save_due = None
