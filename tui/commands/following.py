"""What `builderos watch` says of a session, without I/O: the connection's events in, records
out (a turn, a piece of a reply, a tool call, the end of a reply, who is there, a close, the
connection's state). `tui.commands.watch` prints them, as text or one JSON object per line.

The first socket replays the session's journal: that is the past, and `watch` shows what
happens from now on. A reply still being written when the replay ends is shown from its turn,
with its text so far, then live. After a drop, the next socket's replay is what was missed
while away: it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui.client import protocol as wire
from tui.client.activity import ActivityItem
from tui.client.connection import ClientEvent, Notice, StateChanged
from tui.client.state import Phase
from tui.client.sync import Turn


@dataclass
class _Reply:
    turn: Turn | None
    text: list[str] = field(default_factory=list)


class Follower:
    """A session's events as records for `watch` (dicts, `event` first: see RECORDS)."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.replaying = True
        self._turns: dict[str, Turn] = {}
        self._replies: dict[str, _Reply] = {}
        """Replies begun and not ended, by the message they answer."""
        self._statuses: dict[str, str] = {}
        """Each tool call's last status shown (a call is shown once per status)."""
        self.refused = False

    def take(self, event: ClientEvent) -> list[dict[str, Any]]:
        match event:
            case StateChanged(state):
                self.refused = state.phase is Phase.AUTH_FAILED
                return [{"event": "state", "state": state.phase.value, "detail": state.detail}]
            case wire.ResumeDone():
                return self._live()
            case wire.TurnReported(turn):
                self._turns[turn.msg_id] = turn
                self._replies[turn.msg_id] = _Reply(turn)
                return [] if self.replaying else [_turn(turn)]
            case wire.ReplyChunk(reply_to, text) if reply_to is not None:
                self._reply(reply_to).text.append(text)
                return [] if self.replaying else [_chunk(reply_to, text)]
            case wire.ActivityReported(reply_to, item) if reply_to is not None:
                if self.replaying or self._statuses.get(item.id) == item.status:
                    return []
                self._statuses[item.id] = item.status
                return [_activity(reply_to, item)]
            case wire.ReplyDone(reply_to) if reply_to is not None:
                return self._end(reply_to, "complete")
            case wire.ReplyFailed(reply_to) as failed if reply_to is not None:
                return self._end(reply_to, "error", failed.message)
            case wire.ReplyStopped(reply_to):
                return self._end(reply_to, "stopped")
            case wire.ReplyInterrupted(reply_to, _, why):
                return self._end(reply_to, "interrupted", why)
            case wire.PresenceChanged(devices):
                listed = [{"device_id": d.device_id, "name": d.label} for d in devices]
                return [{"event": "presence", "devices": listed}]
            case wire.SessionClosed(by):
                return [{"event": "closed", "by": by}]
            case Notice(text):
                return [{"event": "notice", "text": text}]
        return []

    def _reply(self, reply_to: str) -> _Reply:
        return self._replies.setdefault(reply_to, _Reply(self._turns.get(reply_to)))

    def _end(self, reply_to: str, status: str, why: str = "") -> list[dict[str, Any]]:
        self._replies.pop(reply_to, None)
        if self.replaying:
            return []
        return [{"event": "end", "reply_to": reply_to, "status": status, "detail": why}]

    def _live(self) -> list[dict[str, Any]]:
        """The replay is over: the replies it left unfinished are shown as far as they came."""
        self.replaying = False
        records: list[dict[str, Any]] = []
        for reply_to, reply in self._replies.items():
            if reply.turn is not None:
                records.append(_turn(reply.turn))
            if reply.text:
                records.append(_chunk(reply_to, "".join(reply.text)))
        return records


def _turn(turn: Turn) -> dict[str, Any]:
    return {
        "event": "turn",
        "id": turn.msg_id,
        "text": turn.text,
        "device_id": turn.device.device_id,
        "device": turn.device.label,
        "timestamp": turn.timestamp,
        "attachments": [a.label for a in turn.attachments],
    }


def _chunk(reply_to: str, text: str) -> dict[str, Any]:
    return {"event": "chunk", "reply_to": reply_to, "text": text}


def _activity(reply_to: str, item: ActivityItem) -> dict[str, Any]:
    return {
        "event": "activity",
        "reply_to": reply_to,
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "status": item.status,
    }


RECORDS = ("turn", "chunk", "activity", "end", "presence", "closed", "state", "notice")
"""Every `event` a record can be (`watch --json` prints one object per line)."""
