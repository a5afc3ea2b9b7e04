"""What the v2 server puts on the wire, and how it reads a client's chat frame (CONTRACT.md §2).

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

SERVER_VERSION = "2.0.0-mock"
FEATURES: dict[str, bool] = {
    "session_persistence": True,
    "streaming": True,
    "attachments": True,
    "bridgehub": True,
    "session_close": True,
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def ready_frame(agent: Agent) -> dict[str, Any]:
    who = "Jarvis (Claude Code)" if agent == "claude" else "Codex"
    return {
        "type": "ready",
        "content": f"Connected to {who}. Session-persistent: your history is kept per session.",
        "timestamp": now_iso(),
        "features": dict(FEATURES),
    }


def chunk_frame(text: str) -> dict[str, Any]:
    return {"type": "message", "content": text, "timestamp": now_iso()}


def complete_frame(message_count: int) -> dict[str, Any]:
    return {
        "type": "complete",
        "content": "Response complete",
        "timestamp": now_iso(),
        "message_count": message_count,
    }


def error_frame(content: str, detail: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "content": content, "timestamp": now_iso()}
    if detail:
        frame["detail"] = detail
    return frame


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
    """Read one text frame sent after `ready`.

    Returns None for frames the server ignores without an answer: a config frame such as
    `{"working_directory": ...}` (no `content`) and empty content. Raises FrameError for
    frames that get an error answer.
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
    if "content" not in data:
        return None
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
    )
