"""The active-session map of the v2 server (docs/protocol.md §1.3), kept over the SQLite store.

Only metadata lives in memory; history is read from the store when a reply needs it, so memory
stays flat however long the sessions grow.

Consistency rule for turns: every stored user turn is followed by exactly one assistant turn.
A reply that completes is stored with `metadata.status = "complete"`; a reply that fails is
stored as `"[no reply: <reason>]"` with status `"error"`; a reply cut off (client gone, session
closed) is stored with whatever text was produced and status `"interrupted"`. If the server
died before it could store that (killed mid-reply), the next turn stores the missing
`"interrupted"` marker first. Turns on one session never interleave: a per-session lock
serialises them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mock_backend.store import SessionRow, SessionStore
from mock_backend.wire import AGENTS, Agent, now_iso

log = logging.getLogger(__name__)


@dataclass
class Session:
    session_id: str
    agent_type: str
    device_id: str
    created_at: str
    last_activity: str
    message_count: int
    system_context: str | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    turn: asyncio.Task[Any] | None = field(default=None, repr=False)
    """The reply being produced for this session, so closing the session can stop it."""
    stop_requested: bool = field(default=False, repr=False)
    """A client asked to stop the reply: it is stored as `stopped`, not `interrupted`."""
    workdir: str | None = None
    """Where a real agent works for this session (a config frame chose it, inside --workdir)."""
    agent_sessions: dict[str, str] = field(default_factory=dict)
    """The agents' own ids for this conversation, by agent (Claude Code's session, Codex's
    thread): handed back to continue it."""

    @classmethod
    def from_row(cls, row: SessionRow) -> Session:
        context = row.data.get("system_context")
        agents = row.data.get("agent_sessions")
        workdir = row.data.get("workdir")
        return cls(
            session_id=row.session_id,
            agent_type=row.agent_type,
            device_id=row.device_id,
            created_at=row.created_at,
            last_activity=row.last_activity,
            message_count=row.message_count,
            system_context=context if isinstance(context, str) else None,
            workdir=workdir if isinstance(workdir, str) else None,
            agent_sessions={str(k): v for k, v in agents.items() if isinstance(v, str)}
            if isinstance(agents, dict)
            else {},
        )

    def summary(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "agent_type": self.agent_type,
            "device_id": self.device_id,
            "message_count": self.message_count,
            "created_at": self.created_at,
            "last_activity": self.last_activity,
        }


class SessionRegistry:
    def __init__(
        self,
        store: SessionStore,
        *,
        claude_md: str,
        retention_days: float = 30,
        active_days: float = 7,
    ) -> None:
        self.store = store
        self.claude_md = claude_md
        self.retention_days = retention_days
        self.active_days = active_days
        self.active: dict[str, Session] = {}

    def load(self, now: datetime | None = None) -> tuple[int, int]:
        """At start: delete sessions idle past retention, load the recently active ones."""
        now = now or datetime.now(UTC)
        deleted = self.store.delete_idle_before(
            (now - timedelta(days=self.retention_days)).isoformat()
        )
        rows = self.store.sessions_active_since(
            (now - timedelta(days=self.active_days)).isoformat()
        )
        self.active = {row.session_id: Session.from_row(row) for row in rows}
        log.info("sessions: %d loaded, %d idle ones deleted", len(self.active), deleted)
        return len(self.active), deleted

    def open(self, session_id: str, agent: Agent, device_id: str) -> Session:
        """The active session with this id: already active, reopened from storage, or new."""
        session = self.active.get(session_id)
        if session is not None:
            return session
        row = self.store.get_session(session_id)
        if row is None:
            created = now_iso()
            context = self.claude_md if agent == "claude" else None
            self.store.create_session(
                session_id, agent, device_id, created, {"system_context": context}
            )
            session = Session(session_id, agent, device_id, created, created, 0, context)
            log.info("session created: %s (%s, device %s)", session_id, agent, device_id)
        else:
            session = Session.from_row(row)
            log.info("session reopened: %s (%d messages)", session_id, session.message_count)
        self.active[session_id] = session
        return session

    def append(
        self, session: Session, role: str, content: str, metadata: dict[str, Any] | None = None
    ) -> int:
        stamp = now_iso()
        count = self.store.append_message(session.session_id, role, content, stamp, metadata)
        session.message_count = count
        session.last_activity = stamp
        return count

    def choose_workdir(self, session: Session, workdir: str) -> None:
        """The directory a client's config frame chose for the session (checked at each turn
        against --workdir, which it must be inside)."""
        if session.workdir != workdir:
            session.workdir = workdir
            self.store.set_session_value(session.session_id, "workdir", workdir)

    def remember_agent_session(self, session: Session, agent: str, agent_session: str) -> None:
        """The agent's own id for the conversation, kept for the next turn (and a restart)."""
        if session.agent_sessions.get(agent) != agent_session:
            session.agent_sessions[agent] = agent_session
            self.store.set_session_value(
                session.session_id, "agent_sessions", session.agent_sessions
            )

    def begin_turn(
        self, session: Session, content: str, metadata: dict[str, Any] | None = None
    ) -> int:
        """Store a user message, first closing a turn a killed server left unanswered."""
        if self.store.last_role(session.session_id) == "user":
            self.append(session, "assistant", "[no reply: interrupted]", {"status": "interrupted"})
        return self.append(session, "user", content, metadata)

    def history(self, session: Session, limit: int = 50) -> list[dict[str, str]]:
        return [
            {"role": m.role, "content": m.content}
            for m in self.store.recent_messages(session.session_id, limit)
        ]

    def history_within(
        self, session: Session, max_chars: int, limit: int = 50
    ) -> tuple[list[dict[str, str]], int]:
        """The recent history that can fit `max_chars` of text, and how many messages of the
        last `limit` it leaves out (reading a long history whole stalled the server)."""
        messages, left_out = self.store.recent_within(session.session_id, limit, max_chars)
        return [{"role": m.role, "content": m.content} for m in messages], left_out

    def close(self, session_id: str) -> tuple[bool, bool]:
        """Drop a session from the active map, stopping its reply if one is running.

        Returns (was_active, stopped_a_reply). History stays stored; a later message with the
        same id reopens the session.
        """
        session = self.active.pop(session_id, None)
        if session is None:
            return False, False
        stopped = session.turn is not None and not session.turn.done()
        if stopped:
            assert session.turn is not None
            session.turn.cancel()
        log.info("session closed: %s (reply stopped: %s)", session_id, stopped)
        return True, stopped

    def counts(self) -> dict[str, Any]:
        by_agent: dict[str, int] = dict.fromkeys(AGENTS, 0)
        by_device: dict[str, int] = {}
        for s in self.active.values():
            by_agent[s.agent_type] = by_agent.get(s.agent_type, 0) + 1
            by_device[s.device_id] = by_device.get(s.device_id, 0) + 1
        return {"total": len(self.active), "by_agent": by_agent, "by_device": by_device}

    def summaries(self) -> list[dict[str, Any]]:
        ordered = sorted(self.active.values(), key=lambda s: s.last_activity, reverse=True)
        return [s.summary() for s in ordered]
