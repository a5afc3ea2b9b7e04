"""One chat turn: store the user message, let the agent work, stream what it does, store it.

Independent of sockets: the caller passes `send`, which raises ClientGone when the peer left.
The agent reports text and activity as it works (mock_backend.agents); text goes out in chunks
and activity as `activity` and `plan` frames, in the order the agent produced them
(docs/protocol.md §4.2), and both are stored with the assistant turn. A turn ends with exactly
one `complete` or one `error` frame; see sessions.py for what is stored when it does not
complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_backend.agents.base import AgentAdapter, AgentTurn
from mock_backend.agents.events import (
    AgentFailed,
    AgentSession,
    PermissionAnswer,
    PermissionRequest,
    Plan,
    Skipped,
    TextDelta,
    ToolCall,
    Usage,
)
from mock_backend.approvals import Approvals
from mock_backend.bridgehub.protocol import MAX_REQUEST_BYTES, build_request
from mock_backend.sessions import Session, SessionRegistry
from mock_backend.store import StoreError
from mock_backend.wire import (
    Agent,
    ChatRequest,
    activity_frame,
    chunk_frame,
    chunks,
    clean_text,
    complete_frame,
    error_frame,
    plan_frame,
)

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]
LocalPath = Callable[[str], Path | None]
"""Where an uploaded file is on this machine, from its url (None: not one of ours)."""


@dataclass
class Record:
    """What a turn produced so far: stored with the assistant turn, whole or cut short."""

    text: list[str] = field(default_factory=list)
    size: int = 0
    activity: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each tool call as last reported, with `at`, in the order they first came."""
    plan: list[dict[str, str]] | None = None
    usage: dict[str, Any] | None = None
    skipped: int = 0
    answers: list[dict[str, str]] = field(default_factory=list)
    """How each question of the agent was answered (docs/protocol.md §4.3)."""

    @property
    def answer(self) -> str:
        return "".join(self.text)

    def metadata(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.activity:
            extra["activity"] = list(self.activity.values())
        if self.plan is not None:
            extra["plan"] = self.plan
        if self.usage:
            extra["usage"] = self.usage
        if self.answers:
            extra["answers"] = self.answers
        return extra


class ClientGone(Exception):
    """The WebSocket peer is no longer there to receive frames."""


class TurnRunner:
    def __init__(
        self,
        registry: SessionRegistry,
        agent: AgentAdapter,
        *,
        approvals: Approvals | None = None,
        chunk_size: int = 100,
        chunk_delay: float = 0.05,
        capsule: str = ".",
        workdir: Path | None = None,
        local_path: LocalPath | None = None,
        before_chunk: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """`agent`: what answers; `approvals`: who decides when it asks (None: nobody can
        answer, so it is denied). `before_chunk(index)` runs before each chunk after the first
        (fault injection)."""
        self.registry = registry
        self.agent = agent
        self.approvals = approvals
        self.before_chunk = before_chunk
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        self.capsule = capsule
        self.workdir = workdir
        self.local_path = local_path

    async def run(self, request: ChatRequest, agent: Agent, send: Send) -> None:
        try:
            session = self.registry.open(request.session_id, agent, request.device_id)
        except StoreError as exc:
            return await _storage_failed(send, "the message was not accepted", exc)
        async with session.lock:
            if self.registry.active.get(session.session_id) is not session:
                session = self.registry.open(request.session_id, agent, request.device_id)
            if request.workdir is not None:
                self.registry.choose_workdir(session, request.workdir)
            task = asyncio.current_task()
            session.turn = task
            session.stop_requested = False
            try:
                await self._turn(session, request, agent, send)
            finally:
                if session.turn is task:
                    session.turn = None

    async def _turn(self, session: Session, request: ChatRequest, agent: Agent, send: Send) -> None:
        metadata: dict[str, Any] = {}
        if request.attachments:
            metadata["attachments"] = request.attachments
        if request.client_id:
            metadata["message_id"] = request.client_id  # the history names turns by it
        if request.client_id or request.device_id != "unknown-device":
            metadata["device_id"] = request.device_id  # and says who sent them
        try:
            count = self.registry.begin_turn(session, request.content, metadata or None)
        except StoreError as exc:
            return await _storage_failed(send, "the message was not accepted", exc)
        record = Record()
        try:
            turn = await self._agent_turn(session, request, agent, count)
            await self._stream(session, turn, send, record)
            reply = {"status": "complete", **_reply_to(request), **record.metadata()}
            count = self.registry.append(session, "assistant", record.answer, reply)
        except AgentFailed as exc:
            log.warning("the agent failed for %s: %s", session.session_id, exc)
            self._store_marker(
                session, f"[no reply: {exc}]", "error", **_reply_to(request), **record.metadata()
            )
            await send(error_frame(str(exc)))
            return
        except (ClientGone, asyncio.CancelledError):
            status = "stopped" if session.stop_requested else "interrupted"
            self._store_marker(
                session,
                record.answer,
                status,
                delivered_chars=record.size,
                **_reply_to(request),
                **record.metadata(),
            )
            raise
        except StoreError as exc:
            self._store_marker(
                session, record.answer, "error", **_reply_to(request), **record.metadata()
            )  # else: healed
            return await _storage_failed(send, "the reply was not saved", exc)
        log.info(
            "turn complete: %s (%d chars, %d tool calls, %d messages)",
            session.session_id,
            record.size,
            len(record.activity),
            count,
        )
        await send(complete_frame(count, record.usage))

    async def _agent_turn(
        self, session: Session, request: ChatRequest, agent: Agent, count: int
    ) -> AgentTurn:
        """What the agent is given: the message, its files, and for BridgeHub the request."""
        # only what can fit the request is read; big JSON is built off the event loop, which
        # keeps answering every other client meanwhile
        history, omitted = self.registry.history_within(session, MAX_REQUEST_BYTES)
        hub_request = await asyncio.to_thread(
            functools.partial(
                build_request,
                agent=agent,
                session_id=session.session_id,
                message=request.content,
                history=history,
                omitted=omitted,
                message_count=count,
                capsule=self.capsule,
                attachments=request.attachments,
                system_context=session.system_context,
            )
        )
        paths = []
        for attached in request.attachments:
            url = attached.get("url")
            path = self.local_path(url) if self.local_path and isinstance(url, str) else None
            if path is not None:
                paths.append(path)
        return AgentTurn(
            session_id=session.session_id,
            provider=agent,
            message=request.content,
            attachments=tuple(paths),
            resume=session.agent_sessions.get(self.agent.name),
            workdir=self._workdir(session),
            context={"request": hub_request},
        )

    def _workdir(self, session: Session) -> Path | None:
        """Where the agent works for this session: the directory its client chose, if it is
        inside --workdir (a client never sends the agent anywhere else), else --workdir."""
        root = self.workdir
        if root is None or session.workdir is None:
            return root
        chosen = (root / session.workdir).resolve()
        if chosen.is_relative_to(root.resolve()) and chosen.is_dir():
            return chosen
        log.warning(
            "%s: working_directory %r is not a directory inside %s; the agent works there",
            session.session_id,
            session.workdir,
            root,
        )
        return root

    async def _stream(self, session: Session, turn: AgentTurn, send: Send, record: Record) -> None:
        """What the agent does, as it does it: text in chunks, activity as frames."""

        async def ask(request: PermissionRequest) -> PermissionAnswer:
            if self.approvals is None:
                return PermissionAnswer("deny", "policy", "no client can answer approvals here")
            answer = await self.approvals.ask(session.session_id, request, send)
            record.answers.append(
                {"item": request.tool_call.id, "decision": answer.decision, "by": answer.by}
            )
            return answer

        index = 0
        async with contextlib.aclosing(self.agent.events(turn, ask)) as events:
            async for event in events:
                match event:
                    case TextDelta(text):
                        for number, piece in enumerate(chunks(clean_text(text), self.chunk_size)):
                            if number and self.chunk_delay:
                                await asyncio.sleep(self.chunk_delay)  # the reference's pace
                            if index and self.before_chunk is not None:
                                await self.before_chunk(index)
                            await send(chunk_frame(piece))
                            record.text.append(piece)
                            record.size += len(piece)
                            index += 1
                    case ToolCall():
                        item = event.wire()
                        at = record.activity.get(event.id, {}).get("at", record.size)
                        record.activity[event.id] = {**item, "at": at}
                        await send(activity_frame(item, at))
                    case Plan():
                        record.plan = event.wire()
                        await send(plan_frame(record.plan))
                    case Usage(tokens, cost):
                        record.usage = {
                            **tokens,
                            **({"cost_usd": cost} if cost is not None else {}),
                        }
                    case AgentSession(agent_session):
                        self.registry.remember_agent_session(
                            session, self.agent.name, agent_session
                        )
                    case Skipped(what):
                        record.skipped += 1
                        log.info("%s: skipped %s", self.agent.name, what)

    def _store_marker(self, session: Session, text: str, status: str, **extra: Any) -> None:
        try:
            self.registry.append(
                session, "assistant", text or f"[no reply: {status}]", {"status": status, **extra}
            )
        except StoreError as exc:
            log.error("storage failed while recording an unfinished turn: %s", exc)


def _reply_to(request: ChatRequest) -> dict[str, str]:
    """What an assistant turn answers, by the client's message id (delivery extension)."""
    return {"reply_to": request.client_id} if request.client_id else {}


async def _storage_failed(send: Send, consequence: str, exc: StoreError) -> None:
    log.error("storage failed: %s", exc)
    await send(error_frame(f"Storage failed, {consequence}", str(exc)))
