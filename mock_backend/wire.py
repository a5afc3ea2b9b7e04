"""What the v2 server puts on the wire, and how it reads a client's chat frame (docs/protocol.md
§1.2, §2 and §4).

Pure functions: the rules for what is answered, ignored or refused live here so they can be
tested without a socket, and the WebSocket handler only moves frames.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Agent = Literal["claude", "codex"]
AGENTS: tuple[Agent, ...] = ("claude", "codex")

AUTH_OK = "authenticated"
AUTH_FAILED = "error:invalid_api_key"

MAX_FRAME_BYTES = 1024 * 1024
"""A text frame over this is answered with an error frame; the socket stays open."""
MAX_ID_CHARS = 256
MAX_NAME_CHARS = 64
"""A device's name (`hello.device_name`) is cut to this."""

SERVER_VERSION = "2.0.0-mock"
FEATURES: dict[str, bool] = {
    "session_persistence": True,
    "streaming": True,
    "attachments": True,
    "bridgehub": True,
    "session_close": True,
}
DELIVERY_FEATURES: dict[str, bool] = {
    "message_ids": True,
    "resume": True,
    "stop": True,
    "session_history": True,
}
"""The additive delivery extension (docs/protocol.md): message ids and acknowledgement,
numbered reply frames with resume, stop, and the session history endpoint."""
AGENT_FEATURES: dict[str, bool] = {"activity": True, "approvals": True}
"""The activity and approvals extensions (docs/protocol.md §4): a client asks for them per
socket (`hello.accept`)."""
SYNC_FEATURES: dict[str, bool] = {"sync": True}
"""One session on every device, live (docs/protocol.md §5): asked for per socket too."""
ACCEPTED = frozenset({*AGENT_FEATURES, *SYNC_FEATURES})
"""What a `hello` may ask for."""
ACTIVITY_FRAMES = frozenset({"activity", "plan"})
APPROVAL_FRAMES = frozenset({"approval", "approved"})
SYNC_FRAMES = frozenset({"turn", "presence", "closed"})


def features(delivery: bool, sync: bool = True) -> dict[str, bool]:
    """What `ready` and `/api/status` announce (`--features none`: the reference's set)."""
    if not delivery:
        return dict(FEATURES)
    return {**FEATURES, **DELIVERY_FEATURES, **AGENT_FEATURES, **(SYNC_FEATURES if sync else {})}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def ready_frame(agent: Agent, delivery: bool = True, sync: bool = True) -> dict[str, Any]:
    who = "Jarvis (Claude Code)" if agent == "claude" else "Codex"
    return {
        "type": "ready",
        "content": f"Connected to {who}. Session-persistent: your history is kept per session.",
        "timestamp": now_iso(),
        "features": features(delivery, sync),
    }


def chunk_frame(text: str) -> dict[str, Any]:
    return {"type": "message", "content": text, "timestamp": now_iso()}


def complete_frame(message_count: int, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """The end of a reply; `usage`: token counts and `cost_usd`, when the agent reported them
    (docs/protocol.md §4.2)."""
    frame: dict[str, Any] = {
        "type": "complete",
        "content": "Response complete",
        "timestamp": now_iso(),
        "message_count": message_count,
    }
    if usage:
        tokens = {k: v for k, v in usage.items() if k != "cost_usd"}
        if tokens:
            frame["usage"] = tokens
        if "cost_usd" in usage:
            frame["cost_usd"] = usage["cost_usd"]
    return frame


def error_frame(content: str, detail: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "content": content, "timestamp": now_iso()}
    if detail:
        frame["detail"] = detail
    return frame


def ack_frame(client_id: str, state: str = "queued", *, duplicate: bool = False) -> dict[str, Any]:
    """The user turn `client_id` is stored; `state` says where its reply stands."""
    frame: dict[str, Any] = {"type": "ack", "id": client_id, "state": state, "timestamp": now_iso()}
    if duplicate:
        frame["duplicate"] = True
    return frame


def stopped_frame() -> dict[str, Any]:
    return {"type": "stopped", "content": "Reply stopped", "timestamp": now_iso()}


def interrupted_frame(why: str) -> dict[str, Any]:
    return {"type": "interrupted", "content": why, "timestamp": now_iso()}


def resumed_frame(session_id: str, seq: int, running: list[str]) -> dict[str, Any]:
    """Ends a replay: every frame up to `seq` was sent; `running` replies go on live."""
    return {
        "type": "resumed",
        "session_id": session_id,
        "seq": seq,
        "running": running,
        "timestamp": now_iso(),
    }


def activity_frame(item: dict[str, Any], at: int) -> dict[str, Any]:
    """A tool call as it stands now, `at` characters into the reply (docs/protocol.md §4.2)."""
    return {"type": "activity", "at": at, "item": item, "timestamp": now_iso()}


def plan_frame(entries: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": "plan", "entries": entries, "timestamp": now_iso()}


def approval_frame(
    approval_id: str, item: dict[str, Any], options: list[str], timeout_s: float
) -> dict[str, Any]:
    """The agent asks to run a tool (docs/protocol.md §4.3)."""
    return {
        "type": "approval",
        "approval": {"id": approval_id, "item": item, "options": options, "timeout_s": timeout_s},
        "timestamp": now_iso(),
    }


def approved_frame(approval_id: str, decision: str, by: str, reason: str = "") -> dict[str, Any]:
    frame = {"type": "approved", "id": approval_id, "decision": decision, "by": by}
    return {**frame, **({"reason": reason} if reason else {}), "timestamp": now_iso()}


def turn_frame(
    client_id: str,
    content: str,
    attachments: list[dict[str, Any]],
    device_id: str,
    device_name: str | None = None,
) -> dict[str, Any]:
    """A message the session took, from any device, journaled right after its `ack`
    (docs/protocol.md §5.2); `reply_to` names it, as its reply's frames do."""
    return {
        "type": "turn",
        "reply_to": client_id,
        "content": content,
        **({"attachments": attachments} if attachments else {}),
        "device_id": device_id,
        **({"device_name": device_name} if device_name else {}),
        "timestamp": now_iso(),
    }


def presence_frame(session_id: str, devices: list[dict[str, str]]) -> dict[str, Any]:
    """Who follows the session now (docs/protocol.md §5.3): sent when it changes."""
    return {
        "type": "presence",
        "session_id": session_id,
        "devices": devices,
        "timestamp": now_iso(),
    }


def closed_frame(session_id: str, by: str) -> dict[str, Any]:
    """The session was closed, by `by` (a device id, or `unknown`)."""
    return {"type": "closed", "session_id": session_id, "by": by, "timestamp": now_iso()}


def skip_frame(seq: int, reply_to: str | None) -> dict[str, Any]:
    """A numbered frame of a feature the socket did not ask for: its number, nothing else."""
    return {"type": "skip", "seq": seq, **({"reply_to": reply_to} if reply_to else {})}


def chunks(text: str, size: int) -> list[str]:
    """Cut a reply into `size`-character pieces, as the reference server streams it."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@dataclass(frozen=True)
class ChatRequest:
    content: str
    session_id: str
    device_id: str
    chat_type: str
    attachments: list[dict[str, Any]] = field(default_factory=list)
    client_id: str | None = None
    """The client's id for the message (delivery extension): acknowledged, never run twice."""
    workdir: str | None = None
    """The directory the socket's config frame chose (`working_directory`), if it chose one."""


@dataclass(frozen=True)
class ResumeRequest:
    """`{"type":"resume","session_id":…,"after":seq}`: replay what came after `after`."""

    session_id: str
    after: int


@dataclass(frozen=True)
class StopRequest:
    """`{"type":"stop","session_id":…,"id":…}`: stop that reply (or the running one)."""

    session_id: str
    client_id: str | None


@dataclass(frozen=True)
class WorkdirRequest:
    """`{"working_directory": path}`, the iOS app's config frame: where a real agent should
    work for this socket's chats (inside `--workdir` only)."""

    path: str


@dataclass(frozen=True)
class HelloRequest:
    """`{"type":"hello","accept":[…],"device_id":…,"device_name":…}`: the features this socket
    wants, and who it is."""

    accept: frozenset[str]
    device_id: str
    device_name: str | None = None


@dataclass(frozen=True)
class ApproveRequest:
    """`{"type":"approve","session_id":…,"id":…,"decision":…}`: an answer to an approval."""

    session_id: str
    approval_id: str
    decision: str


ClientRequest = (
    ChatRequest | ResumeRequest | StopRequest | HelloRequest | ApproveRequest | WorkdirRequest
)


class FrameError(Exception):
    """A client frame the server answers with an error frame (and then keeps reading)."""

    def __init__(self, content: str, detail: str | None = None) -> None:
        super().__init__(content if detail is None else f"{content}: {detail}")
        self.content = content
        self.detail = detail

    def frame(self) -> dict[str, Any]:
        return error_frame(self.content, self.detail)


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text SQLite and UTF-8 can hold: a JSON frame may carry a lone UTF-16 surrogate ("\\ud83d",
    what a JavaScript client leaves when it cuts a string inside an emoji). Pairs are joined, lone
    halves become U+FFFD. (The client has its own copy: the mock shares no code with it.)"""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _has_control_chars(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def _identifier(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise FrameError(f"Invalid {key}", "must be a string")
    if len(value) > MAX_ID_CHARS:
        raise FrameError(f"Invalid {key}", f"longer than {MAX_ID_CHARS} characters")
    if _has_control_chars(value):
        raise FrameError(f"Invalid {key}", "contains control characters")
    if _SURROGATE.search(value):
        raise FrameError(f"Invalid {key}", "not valid Unicode (a lone surrogate)")
    return value


def parse_chat_frame(text: str, agent: Agent) -> ChatRequest | None:
    """A frame as the reference server reads it (see `parse_client_frame`): a chat, or None
    for what it ignores (a config frame choosing a directory included)."""
    request = parse_client_frame(text, agent, delivery=False)
    if isinstance(request, WorkdirRequest):
        return None
    assert request is None or isinstance(request, ChatRequest)
    return request


def parse_client_frame(text: str, agent: Agent, delivery: bool) -> ClientRequest | None:
    """Read one text frame sent after `ready`.

    Returns None for frames the server ignores without an answer: a config frame such as
    `{"working_directory": ...}` (no `content`) and empty content. Raises FrameError for
    frames that get an error answer. With `delivery` (the extension is on), a chat frame's
    `id` is read, and `resume` and `stop` frames are understood.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        raise FrameError("Message too large", f"the limit is {MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(text)
    except ValueError:
        raise FrameError("Invalid message format", "the frame is not JSON") from None
    except RecursionError:
        raise FrameError("Invalid message format", "JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise FrameError("Invalid message format", "expected a JSON object")
    if delivery and data.get("type") in ("resume", "stop", "hello", "approve"):
        return _control_frame(data, agent)
    if "content" not in data:
        where = data.get("working_directory")
        return WorkdirRequest(clean_text(where)) if isinstance(where, str) and where else None
    content = data["content"]
    if not isinstance(content, str):
        raise FrameError("Invalid message format", "content must be a string")
    if not content.strip():
        return None
    attachments = data.get("attachments")
    kept = [a for a in attachments if isinstance(a, dict)] if isinstance(attachments, list) else []
    chat_type = data.get("chat_type")
    return ChatRequest(
        content=clean_text(content),
        session_id=_identifier(data, "session_id", f"default-{agent}-session"),
        device_id=_identifier(data, "device_id", "unknown-device"),
        chat_type=clean_text(chat_type)
        if isinstance(chat_type, str)
        else ("jarvis" if agent == "claude" else "codex"),
        attachments=kept,
        client_id=(_identifier(data, "id", "") or None) if delivery else None,
    )


def _control_frame(
    data: dict[str, Any], agent: Agent
) -> ResumeRequest | StopRequest | HelloRequest | ApproveRequest:
    if data["type"] == "hello":
        accept = data.get("accept")
        wanted = accept if isinstance(accept, list) else []
        name = _identifier(data, "device_name", "")[:MAX_NAME_CHARS]
        return HelloRequest(
            frozenset(f for f in wanted if isinstance(f, str) and f in ACCEPTED),
            _identifier(data, "device_id", "unknown"),
            name or None,
        )
    session_id = _identifier(data, "session_id", f"default-{agent}-session")
    if data["type"] == "approve":
        decision = data.get("decision")
        if not isinstance(decision, str):
            raise FrameError("Invalid approval", "decision is allow_once, allow_session or deny")
        approval_id = _identifier(data, "id", "")
        if not approval_id:
            raise FrameError("Invalid approval", "id names the approval answered")
        return ApproveRequest(session_id, approval_id, decision)
    if data["type"] == "stop":
        return StopRequest(session_id, _identifier(data, "id", "") or None)
    after = data.get("after", 0)
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise FrameError("Invalid resume", "after must be a sequence number (an integer ≥ 0)")
    return ResumeRequest(session_id, after)
