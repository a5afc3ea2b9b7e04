"""The delivery extension, server side (docs/protocol.md): nothing taken is lost or run twice.

A chat frame with an `id` is stored in the inbox and acknowledged in one transaction; a repeated
id gets the same message's standing, never a second turn. One worker per session answers its
inbox in order, and the run belongs to the session, not to a socket: a socket that drops misses
nothing, because every reply frame is numbered per session and kept, and a socket that asks to
`resume` after a number gets the rest, then the live frames. Stopping a reply cancels the run
and its partial answer is stored as `stopped`. At start, replies a dead server left unfinished
are ended as interrupted and the messages still queued are answered.

With `sync` (docs/protocol.md §5) every message is journaled as a `turn` whoever sent it: a
message without an id (the base contract: the iOS app) is taken into the same inbox under an id
the server makes, and its socket gets the reply from the journal as base-contract frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from mock_backend.presence import Presence
from mock_backend.sessions import SessionRegistry
from mock_backend.store import InboxEntry, StoreError
from mock_backend.turns import TurnRunner
from mock_backend.wire import (
    Agent,
    ChatRequest,
    ack_frame,
    closed_frame,
    error_frame,
    interrupted_frame,
    presence_frame,
    resumed_frame,
    stopped_frame,
    turn_frame,
)

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]
ENDS = {
    "complete": "complete",
    "error": "error",
    "stopped": "stopped",
    "interrupted": "interrupted",
}
"""End-of-reply frame type → the inbox state it leaves."""
REPLAY_BATCH = 500
CLOSED_WHY = "the session was closed"


class Deliveries:
    def __init__(self, registry: SessionRegistry, runner: TurnRunner, *, sync: bool = True) -> None:
        """`sync`: every turn journaled and shared (docs/protocol.md Part 5); False imitates a
        server without it."""
        self.sync = sync
        self.registry = registry
        self.store = registry.store
        self.runner = runner
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._running: dict[str, tuple[str, asyncio.Task[None]]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self.stopping = False
        self.presence = Presence(self._notify)

    # taking messages ----------------------------------------------------------------------------

    def take(
        self, request: ChatRequest, agent: Agent, device_name: str | None = None
    ) -> dict[str, Any] | None:
        """Store and acknowledge a message (its `turn` and ack are journaled: followers send
        them). A repeated id returns its duplicate ack, to send directly. Raises StoreError if
        it was not stored."""
        assert request.client_id is not None
        session = self.registry.open(request.session_id, agent, request.device_id)
        if request.workdir is not None:
            self.registry.choose_workdir(session, request.workdir)
        existing = self.store.inbox_entry(session.session_id, request.client_id)
        if existing is not None:
            return ack_frame(request.client_id, existing.state, duplicate=True)
        sender = {"device_id": request.device_id, **({"name": device_name} if device_name else {})}
        self.store.queue_message(
            session.session_id,
            request.client_id,
            request.content,
            request.attachments,
            ack_frame(request.client_id),
            turn_frame(
                request.client_id,
                request.content,
                request.attachments,
                request.device_id,
                device_name,
            )
            if self.sync
            else None,
            sender,
        )
        self._notify(session.session_id)
        self._ensure_worker(session.session_id, agent)
        return None

    def take_unnamed(self, request: ChatRequest, agent: Agent) -> tuple[str, int]:
        """A message without an id (the base contract): taken as any other under an id made
        here. Returns that id and the number its frames come after (for `relay`)."""
        client_id = f"server-{uuid.uuid4()}"
        after = self.last_seq(request.session_id)
        self.take(replace(request, client_id=client_id), agent)
        return client_id, after

    async def relay(self, session_id: str, client_id: str, after: int, send: Send) -> None:
        """The reply to a message taken without an id, from the journal, as the base contract's
        frames (no number, no `reply_to`), until it ends: what its socket had before sync."""
        cursor = after
        while True:
            changed = self._event(session_id)
            frames = self.store.frames_after(session_id, cursor, REPLAY_BATCH)
            for frame in frames:
                cursor = frame["seq"]
                if frame.get("reply_to") != client_id:
                    continue
                base = _base_frame(frame)
                if base is not None:
                    await send(base)
                if frame["type"] in ENDS:
                    return
            if len(frames) < REPLAY_BATCH:
                await changed.wait()

    def stop(self, session_id: str, client_id: str | None) -> bool:
        """Stop the running reply (if `client_id` is given, only that one). Returns whether a
        reply was stopped; the `stopped` frame follows in the session's frames."""
        running = self._running.get(session_id)
        if running is None or (client_id is not None and running[0] != client_id):
            return False
        session = self.registry.active.get(session_id)
        if session is not None:
            session.stop_requested = True
        running[1].cancel()
        return True

    def recover(self) -> None:
        """At start: a reply the last server died in is ended as interrupted (the user can
        retry); messages acknowledged but never answered are answered now."""
        for entry in self.store.unfinished():
            if entry.state == "replying":
                self._end(entry, interrupted_frame("the server stopped while replying"))
                with contextlib.suppress(StoreError):
                    if self.store.last_role(entry.session_id) == "user":
                        session = self.registry.open(entry.session_id, "claude", "")
                        self.registry.append(
                            session,
                            "assistant",
                            "[no reply: interrupted]",
                            {"status": "interrupted"},
                        )
        for entry in self.store.unfinished():
            row = self.store.get_session(entry.session_id)
            agent: Agent = "codex" if row is not None and row.agent_type == "codex" else "claude"
            self._ensure_worker(entry.session_id, agent)

    async def close(self) -> None:
        """Server shutdown: running replies end as interrupted; queued ones wait for the next
        start."""
        self.stopping = True
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    # following a session's frames --------------------------------------------------------------

    def working(self) -> list[str]:
        """The sessions whose messages are being answered (or wait their turn) now."""
        return [sid for sid, worker in self._workers.items() if not worker.done()]

    def last_seq(self, session_id: str) -> int:
        return self.store.last_seq(session_id)

    def unanswered(self, session_id: str) -> list[str]:
        return [e.client_id for e in self.store.unfinished(session_id)]

    async def follow(
        self,
        session_id: str,
        after: int,
        send: Send,
        *,
        resumed: bool,
        answers_approvals: bool = False,
        device: tuple[object, str, str | None] | None = None,
    ) -> None:
        """Send the session's frames numbered after `after`, then each new one as it comes,
        until cancelled. With `resumed`, a `resumed` frame marks the end of the replay.
        `answers_approvals`: the socket can answer approvals, so while it follows, an open
        approval's timeout runs (docs/protocol.md §4.3). `device`: the socket asked for sync
        (its key, device id and name): it is on the session's presence while it follows, and
        hears of the presence and of a close (§5)."""
        approvals = self.runner.approvals
        if answers_approvals and approvals is not None:
            approvals.watching(session_id, +1)
        if device is not None:
            self.presence.join(session_id, *device)
        try:
            await self._follow(session_id, after, send, resumed, sync=device is not None)
        finally:
            if answers_approvals and approvals is not None:
                approvals.watching(session_id, -1)
            if device is not None:
                self.presence.leave(session_id, device[0])

    def closed(self, session_id: str, by: str) -> None:
        """The session was closed (HTTP): its followers are told, by whom."""
        self.presence.closed(session_id, by)

    def approvals_answer(
        self, session_id: str, approval_id: str, decision: str, by: str
    ) -> str | None:
        """A client's answer to an approval: why it changed nothing (None: it was taken)."""
        approvals = self.runner.approvals
        if approvals is None:
            return "This server does not ask for approvals"
        return approvals.answer(session_id, approval_id, decision, by)

    async def _follow(
        self, session_id: str, after: int, send: Send, resumed: bool, *, sync: bool
    ) -> None:
        cursor = after
        presence, closes = -1, self.presence.closes(session_id)[0]
        while True:
            changed = self._event(session_id)
            frames = self.store.frames_after(session_id, cursor, REPLAY_BATCH)
            for frame in frames:
                await send(frame)
                cursor = frame["seq"]
            if len(frames) == REPLAY_BATCH:
                continue
            if resumed:
                resumed = False
                await send(resumed_frame(session_id, cursor, self.unanswered(session_id)))
            if sync and presence != (now := self.presence.version(session_id)):
                presence = now
                await send(presence_frame(session_id, self.presence.devices(session_id)))
            if sync and closes != (closed := self.presence.closes(session_id))[0]:
                closes = closed[0]
                await send(closed_frame(session_id, closed[1]))
            await changed.wait()

    # inside -------------------------------------------------------------------------------------

    def _event(self, session_id: str) -> asyncio.Event:
        return self._changed.setdefault(session_id, asyncio.Event())

    def _notify(self, session_id: str) -> None:
        event = self._changed.pop(session_id, None)
        if event is not None:
            event.set()

    def _publish(self, session_id: str, frame: dict[str, Any]) -> None:
        self.store.journal(session_id, frame)
        self._notify(session_id)

    def _end(self, entry: InboxEntry, frame: dict[str, Any]) -> None:
        """Record how a reply ended: its end frame and the inbox state, best effort."""
        try:
            self._publish(entry.session_id, {**frame, "reply_to": entry.client_id})
            self.store.set_inbox_state(entry.session_id, entry.client_id, ENDS[frame["type"]])
        except StoreError as exc:
            log.error("could not record the end of a reply: %s", exc)

    def _ensure_worker(self, session_id: str, agent: Agent) -> None:
        worker = self._workers.get(session_id)
        if (worker is None or worker.done()) and not self.stopping:
            task = asyncio.create_task(self._work(session_id, agent), name=f"replies {session_id}")
            self._workers[session_id] = task
            task.add_done_callback(lambda t: self._worker_ended(session_id, t))

    def _worker_ended(self, session_id: str, task: asyncio.Task[None]) -> None:
        if self._workers.get(session_id) is task:
            del self._workers[session_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("the reply worker of %s failed", session_id, exc_info=task.exception())

    async def _work(self, session_id: str, agent: Agent) -> None:
        while (entry := self.store.next_queued(session_id)) is not None:
            await self._answer(entry, agent)

    async def _answer(self, entry: InboxEntry, agent: Agent) -> None:
        self.store.set_inbox_state(entry.session_id, entry.client_id, "replying")
        ended: list[str] = []

        async def publish(frame: dict[str, Any]) -> None:
            if frame["type"] in ENDS:
                ended.append(frame["type"])
            self._publish(entry.session_id, {**frame, "reply_to": entry.client_id})

        row = self.store.get_session(entry.session_id)
        owner = row.device_id if row else "unknown-device"
        request = ChatRequest(
            content=entry.content,
            session_id=entry.session_id,
            device_id=entry.sender.get("device_id", owner),
            chat_type="jarvis" if agent == "claude" else "codex",
            attachments=entry.attachments,
            client_id=entry.client_id,
        )
        run = asyncio.create_task(self.runner.run(request, agent, publish))
        self._running[entry.session_id] = (entry.client_id, run)
        try:
            await run
        except asyncio.CancelledError:
            if run.cancelled() and not _being_cancelled():
                session = self.registry.active.get(entry.session_id)
                if session is not None and session.stop_requested:
                    return self._end(entry, stopped_frame())
                return self._end(entry, interrupted_frame(CLOSED_WHY))
            run.cancel()
            with contextlib.suppress(BaseException):
                await run
            self._end(entry, interrupted_frame("the server stopped while replying"))
            raise
        except Exception:
            log.exception("a reply on %s failed", entry.session_id)
            self._end(entry, error_frame("Internal server error", "see the server log"))
        else:
            if ended:
                with contextlib.suppress(StoreError):
                    self.store.set_inbox_state(entry.session_id, entry.client_id, ENDS[ended[-1]])
            else:
                self._end(entry, error_frame("Internal server error", "the reply had no end"))
        finally:
            if self._running.get(entry.session_id, (None, None))[1] is run:
                del self._running[entry.session_id]


def _base_frame(frame: dict[str, Any]) -> dict[str, Any] | None:
    """A journaled reply frame as the base contract has it (None: not one of its frames)."""
    kind = frame["type"]
    bare = {k: v for k, v in frame.items() if k not in ("seq", "reply_to")}
    if kind in ("message", "complete", "error"):
        return bare
    if kind == "stopped":
        return error_frame("Reply stopped", "stopped from another device")
    if kind == "interrupted" and frame.get("content") == CLOSED_WHY:
        return error_frame("Session closed", "the reply was stopped by a close request")
    if kind == "interrupted":
        return error_frame("Reply interrupted", str(frame.get("content") or ""))
    return None


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
