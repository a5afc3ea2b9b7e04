"""One chat turn: store the user message, ask BridgeHub, stream the answer, store it.

Independent of sockets: the caller passes `send`, which raises ClientGone when the peer left.
A turn ends with exactly one `complete` or one `error` frame; see sessions.py for what is
stored when it does not complete.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mock_backend.bridgehub.protocol import (
    MAX_REQUEST_BYTES,
    BridgeHub,
    BridgeHubError,
    build_request,
)
from mock_backend.sessions import Session, SessionRegistry
from mock_backend.store import StoreError
from mock_backend.wire import (
    Agent,
    ChatRequest,
    chunk_frame,
    chunks,
    clean_text,
    complete_frame,
    error_frame,
)

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]


class ClientGone(Exception):
    """The WebSocket peer is no longer there to receive frames."""


class TurnRunner:
    def __init__(
        self,
        registry: SessionRegistry,
        bridgehub: BridgeHub,
        *,
        chunk_size: int = 100,
        chunk_delay: float = 0.05,
        capsule: str = ".",
        before_chunk: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """`before_chunk(index)` runs before each chunk after the first (fault injection)."""
        self.registry = registry
        self.before_chunk = before_chunk
        self.bridgehub = bridgehub
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        self.capsule = capsule

    async def run(self, request: ChatRequest, agent: Agent, send: Send) -> None:
        try:
            session = self.registry.open(request.session_id, agent, request.device_id)
        except StoreError as exc:
            return await _storage_failed(send, "the message was not accepted", exc)
        async with session.lock:
            if self.registry.active.get(session.session_id) is not session:
                session = self.registry.open(request.session_id, agent, request.device_id)
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
        try:
            count = self.registry.begin_turn(session, request.content, metadata or None)
        except StoreError as exc:
            return await _storage_failed(send, "the message was not accepted", exc)
        answer = ""
        delivered = 0
        try:
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
            answer = clean_text(await self.bridgehub.ask(hub_request))
            for index, piece in enumerate(chunks(answer, self.chunk_size)):
                if index and self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
                if index and self.before_chunk is not None:
                    await self.before_chunk(index)
                await send(chunk_frame(piece))
                delivered += len(piece)
            reply = {"status": "complete", **_reply_to(request)}
            count = self.registry.append(session, "assistant", answer, reply)
        except BridgeHubError as exc:
            log.warning("bridgehub failed for %s: %s", session.session_id, exc)
            self._store_marker(session, f"[no reply: {exc}]", "error", **_reply_to(request))
            await send(error_frame(str(exc)))
            return
        except (ClientGone, asyncio.CancelledError):
            status = "stopped" if session.stop_requested else "interrupted"
            self._store_marker(
                session, answer, status, delivered_chars=delivered, **_reply_to(request)
            )
            raise
        except StoreError as exc:
            self._store_marker(session, answer, "error", **_reply_to(request))  # else: healed
            return await _storage_failed(send, "the reply was not saved", exc)
        log.info(
            "turn complete: %s (%d chars, %d messages)", session.session_id, len(answer), count
        )
        await send(complete_frame(count))

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
