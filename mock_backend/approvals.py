"""Approvals (docs/protocol.md §4.3): an agent asks before it runs a tool, every client following
the session is asked, and the first answer wins.

The request and the decision are frames of the reply (numbered and journaled by the caller's
`send`), so a client that connects later sees a request still open in its resume replay. The
timeout counts only while some client that accepted approvals follows the session: asked while
nobody is there, a request waits for the next client.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from mock_backend.agents.events import DECISIONS, PermissionAnswer, PermissionRequest
from mock_backend.wire import approval_frame, approved_frame

log = logging.getLogger(__name__)

Policy = Literal["ask", "allow", "deny"]
Send = Callable[[dict[str, Any]], Awaitable[None]]
OPTIONS: list[str] = list(DECISIONS)


@dataclass
class _Open:
    session_id: str
    tool: str
    answer: asyncio.Future[PermissionAnswer] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Approvals:
    def __init__(self, *, policy: Policy = "ask", timeout: float = 300.0) -> None:
        self.policy = policy
        self.timeout = timeout
        self._open: dict[str, _Open] = {}
        self._watchers: dict[str, int] = {}
        self._watch_changed: dict[str, asyncio.Event] = {}
        self._allowed: dict[str, set[str]] = {}
        """Tools allowed for the rest of a session (`allow_session`)."""
        self._ids = itertools.count(1)
        self.asked = 0
        self.timed_out = 0

    # who is there ------------------------------------------------------------------------------

    def watching(self, session_id: str, delta: int) -> None:
        """A client that accepted approvals started (+1) or stopped (-1) following the session."""
        self._watchers[session_id] = max(0, self._watchers.get(session_id, 0) + delta)
        event = self._watch_changed.pop(session_id, None)
        if event is not None:
            event.set()

    def watched(self, session_id: str) -> bool:
        return self._watchers.get(session_id, 0) > 0

    def asking(self, session_id: str) -> bool:
        """A question of this session waits for an answer."""
        return any(w.session_id == session_id for w in self._open.values())

    # asking ------------------------------------------------------------------------------------

    async def ask(
        self, session_id: str, request: PermissionRequest, send: Send
    ) -> PermissionAnswer:
        """Put the request to the session's clients through `send` (the reply's frames) and wait
        for the first answer, or the timeout's denial."""
        item = request.tool_call
        if self.policy != "ask":
            return PermissionAnswer(
                self.policy if self.policy == "deny" else "allow_once", "policy"
            )
        if item.title in self._allowed.get(session_id, set()):
            return PermissionAnswer("allow_session", "session")
        approval_id = f"a{next(self._ids)}-{int(time.time())}"
        waiting = _Open(session_id, item.title)
        self._open[approval_id] = waiting
        self.asked += 1
        try:
            await send(approval_frame(approval_id, item.wire(), OPTIONS, self.timeout))
            answer = await self._wait(session_id, waiting.answer)
        finally:
            self._open.pop(approval_id, None)
        if answer.decision == "allow_session":
            self._allowed.setdefault(session_id, set()).add(item.title)
        await send(approved_frame(approval_id, answer.decision, answer.by, answer.reason))
        return answer

    async def _wait(
        self, session_id: str, answer: asyncio.Future[PermissionAnswer]
    ) -> PermissionAnswer:
        """The answer; the timeout runs only while a client that can answer is there."""
        left = self.timeout
        while not answer.done():
            watched = self.watched(session_id)
            changed = self._watch_changed.setdefault(session_id, asyncio.Event())
            waiter: asyncio.Future[Any] = asyncio.ensure_future(changed.wait())
            started = time.monotonic()
            try:
                await asyncio.wait(
                    {answer, waiter},
                    timeout=left if watched else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waiter.cancel()
            if watched and not answer.done():
                left -= time.monotonic() - started
                if left <= 0:
                    self.timed_out += 1
                    why = f"nobody answered within {self.timeout:g} s"
                    return PermissionAnswer("deny", "timeout", why)
        return answer.result()

    def answer(self, session_id: str, approval_id: str, decision: str, by: str) -> str | None:
        """A client's answer; the first one wins. Returns why it changed nothing (None: taken)."""
        waiting = self._open.get(approval_id)
        if waiting is None or waiting.session_id != session_id or waiting.answer.done():
            return f"Approval {approval_id} was already answered, or is not open"
        if decision not in DECISIONS:
            return f"{decision!r} is not one of {', '.join(DECISIONS)}"
        waiting.answer.set_result(PermissionAnswer(decision, by))
        return None

    def health(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "timeout_s": self.timeout,
            "open": len(self._open),
            "asked": self.asked,
            "timed_out": self.timed_out,
        }
