"""One message, one reply, no screen: what `builderos send` does, on the same connection code
as a tab (handshake, delivery, reconnect and resume included).

Files are uploaded first; the message goes with them; the reply's text is handed to `on_text`
as it streams. Every way it can end other than `complete` is a `SendFailed` with an exit code
a script can tell apart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tui.client import protocol as wire
from tui.client.activity import Activity, ActivityItem, Approval
from tui.client.attachments import Attachment
from tui.client.backoff import Backoff
from tui.client.connection import ClientEvent, StateChanged, TabConnection
from tui.client.frames import Provider
from tui.client.ids import new_id
from tui.client.state import TOKEN_FIX, Phase
from tui.client.sync import this_device_name
from tui.client.uploads import UploadError, upload

UNREACHABLE, REFUSED, FAILED, INTERRUPTED, NOT_ATTACHED = 3, 4, 5, 6, 7
"""Exit codes (1 is a usage or configuration error, 2 a command-line error)."""
GIVE_UP = (Phase.UNREACHABLE, Phase.NOT_FOUND, Phase.NO_ANSWER)


class SendFailed(Exception):
    def __init__(self, code: int, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.partial = partial
        """The part of the reply that came before it failed."""


@dataclass
class SendResult:
    session_id: str
    reply: str
    message_count: int | None
    usage: dict[str, int] | None
    attachments: list[Attachment] = field(default_factory=list)
    activity: Activity = field(default_factory=Activity)
    """What the agent did (docs/protocol.md §4.2), when the server says."""

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "session_id": self.session_id,
            "message_count": self.message_count,
            "reply": self.reply,
            "usage": self.usage,
            "attachments": [a.wire() for a in self.attachments],
            "activity": [item.wire() for item in self.activity.items],
            "plan": [{"content": e.content, "status": e.status} for e in self.activity.plan],
        }


Decide = Callable[[Approval], Awaitable[str]]
"""How a question of the agent is answered: `allow_once`, `allow_session` or `deny`."""


async def deny_all(approval: Approval) -> str:
    return "deny"


async def send_once(
    *,
    base_url: str,
    token: str,
    provider: Provider,
    session_id: str,
    device_id: str,
    text: str,
    files: list[Path],
    on_text: Callable[[str], Any] = lambda text: None,
    on_work: Callable[[ActivityItem], Any] = lambda item: None,
    decide: Decide = deny_all,
    connect_within: float = 15.0,
    reply_within: float = 600.0,
) -> SendResult:
    """Send one message and wait for its whole reply. `on_text` gets the reply as it
    streams, `on_work` each tool call each time it changes, and `decide` answers each question
    the agent asks (docs/protocol.md §4)."""
    attachments = []
    for path in files:
        try:
            attachments.append(await upload(base_url, token, path))
        except UploadError as exc:
            raise SendFailed(REFUSED if exc.status == 401 else NOT_ATTACHED, str(exc)) from None
    events: asyncio.Queue[ClientEvent] = asyncio.Queue()
    connection = TabConnection(
        base_url=base_url,
        token=token,
        provider=provider,
        session_id=session_id,
        device_id=device_id,
        device_name=this_device_name(),
        on_event=events.put_nowait,
        backoff=Backoff(),
    )
    msg_id = new_id()
    connection.send(msg_id, text, tuple(a.wire() for a in attachments))
    connection.start()
    work = _Work(on_work, decide, connection)
    try:
        result = await _reply(events, msg_id, on_text, work, connect_within, reply_within)
    finally:
        work.cancel()
        with contextlib.suppress(Exception):
            await connection.stop()
    return SendResult(session_id, *result, attachments=attachments, activity=work.activity)


@dataclass
class _Work:
    """The agent's work on the reply, and its questions, answered as `decide` says."""

    on_work: Callable[[ActivityItem], Any]
    decide: Decide
    connection: TabConnection
    activity: Activity = field(default_factory=Activity)
    answering: set[asyncio.Task[None]] = field(default_factory=set)

    def seen(self, event: ClientEvent) -> None:
        match event:
            case wire.ActivityReported(_, item):
                self.activity = self.activity.with_item(item)
                self.on_work(item)
            case wire.PlanReported(_, plan):
                self.activity = replace(self.activity, plan=plan)
            case wire.ApprovalAsked(_, approval):
                task = asyncio.create_task(self._answer(approval))
                self.answering.add(task)
                task.add_done_callback(self.answering.discard)

    async def _answer(self, approval: Approval) -> None:
        decision = await self.decide(approval)
        self.connection.answer_approval(approval.id, decision)

    def cancel(self) -> None:
        for task in self.answering:
            task.cancel()


async def _reply(
    events: asyncio.Queue[ClientEvent],
    msg_id: str,
    on_text: Callable[[str], Any],
    work: _Work,
    connect_within: float,
    reply_within: float,
) -> tuple[str, int | None, dict[str, int] | None]:
    loop = asyncio.get_running_loop()
    connected = False
    started = loop.time()
    deadline = started + reply_within
    received: list[str] = []
    while True:
        limit = deadline if connected else min(deadline, started + connect_within)
        try:
            async with asyncio.timeout_at(limit):
                event = await events.get()
        except TimeoutError:
            if connected:
                raise SendFailed(
                    INTERRUPTED, f"no complete reply within {reply_within:.0f} s", "".join(received)
                ) from None
            raise SendFailed(UNREACHABLE, f"not connected within {connect_within:.0f} s") from None
        match event:
            case StateChanged(state) if state.phase is Phase.CONNECTED:
                connected = True
            case StateChanged(state) if state.phase is Phase.AUTH_FAILED:
                raise SendFailed(REFUSED, f"token refused ({state.detail}): {TOKEN_FIX}")
            case StateChanged(state) if state.phase in GIVE_UP and not connected:
                # the tab's words without "retrying…": a one-shot does not wait for it
                raise SendFailed(UNREACHABLE, state.label(loop.time()).split(" — ")[0])
            case (
                wire.ActivityReported(reply_to)
                | wire.PlanReported(reply_to)
                | wire.ApprovalAsked(reply_to)
            ) if reply_to in (msg_id, None):
                work.seen(event)
            case wire.ReplyChunk(reply_to, chunk) if reply_to in (msg_id, None):
                received.append(chunk)
                on_text(chunk)
            case wire.ReplyDone(reply_to, _, _, count, usage) if reply_to in (msg_id, None):
                return "".join(received), count, usage
            case wire.ReplyFailed(reply_to) as failed if reply_to in (msg_id, None):
                raise SendFailed(FAILED, failed.message, "".join(received))
            case wire.ReplyInterrupted(reply_to, _, why) if reply_to == msg_id:
                why = why or "the connection was lost and the server cannot resume"
                raise SendFailed(INTERRUPTED, f"reply interrupted: {why}", "".join(received))
            case wire.NotConfirmed(reply_to) if reply_to == msg_id:
                raise SendFailed(
                    INTERRUPTED,
                    "the connection dropped before any answer: the message may not have arrived",
                )
