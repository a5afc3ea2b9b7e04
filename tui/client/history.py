"""The backend's sessions (`GET /api/sessions`) and a session's stored history (`GET
/api/sessions/{id}/messages`, delivery extension), decoded defensively: an answer that is not
what docs/protocol.md says is a `HistoryError` with the reason, never a crash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

MAX_PAGES = 10_000
"""A server that keeps answering `next_before` forever is cut off here."""


class HistoryError(Exception):
    """The backend could not be asked, or answered something else; the text says which."""


@dataclass(frozen=True)
class RemoteSession:
    session_id: str
    provider: str
    device_id: str
    messages: int
    created_at: str
    last_activity: str


@dataclass(frozen=True)
class RemoteMessage:
    number: int
    role: str
    content: str
    timestamp: str
    metadata: dict[str, Any]

    @property
    def msg_id(self) -> str:
        """The client's id for it where the server kept one (as the app names replies)."""
        if isinstance(self.metadata.get("message_id"), str):
            return str(self.metadata["message_id"])
        if isinstance(self.metadata.get("reply_to"), str):
            return f"{self.metadata['reply_to']}:reply"
        return f"#{self.number}"

    @property
    def status(self) -> str:
        if self.role == "user":
            return "acknowledged"
        status = self.metadata.get("status")
        return status if isinstance(status, str) else "complete"


async def list_sessions(base_url: str, *, wait: float = 10.0) -> list[RemoteSession]:
    body = await _get(base_url, "/api/sessions", {}, {}, wait)
    entries = body.get("sessions") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise HistoryError("GET /api/sessions: the answer has no `sessions` list")
    sessions = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("session_id"), str):
            continue  # one odd entry does not hide the others
        sessions.append(
            RemoteSession(
                entry["session_id"],
                _text(entry.get("agent_type")),
                _text(entry.get("device_id")),
                _number(entry.get("message_count")),
                _text(entry.get("created_at")),
                _text(entry.get("last_activity")),
            )
        )
    return sessions


async def fetch_history(
    base_url: str, token: str, session_id: str, *, wait: float = 10.0
) -> list[RemoteMessage] | None:
    """The whole history, oldest first, fetched a page at a time; None when the backend has
    none for this session (404: an unknown session, or a server without the extension)."""
    path = f"/api/sessions/{session_id}/messages"
    headers = {"X-API-Key": token}
    pages: list[list[RemoteMessage]] = []
    before: int | None = None
    for _ in range(MAX_PAGES):
        params = {"limit": "500", **({"before": str(before)} if before is not None else {})}
        body = await _get(base_url, path, headers, params, wait)
        if body is None:
            return None
        items = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise HistoryError(f"GET {path}: the answer has no `messages` list")
        pages.insert(0, [_message(item, path) for item in items])
        following = body.get("next_before")
        if not isinstance(following, int) or not pages[0] or following == before:
            break
        before = following
    return [message for page in pages for message in page]


async def _get(
    base_url: str, path: str, headers: dict[str, str], params: dict[str, str], wait: float
) -> Any:
    try:
        async with httpx.AsyncClient(timeout=wait) as http:
            response = await http.get(base_url + path, headers=headers, params=params)
    except httpx.HTTPError as exc:
        raise HistoryError(f"cannot reach {base_url} ({exc.__class__.__name__}: {exc})") from None
    if response.status_code == 404 and path != "/api/sessions":
        return None
    if response.status_code == 401:
        raise HistoryError(f"GET {path}: the backend refused the token (401)")
    if response.status_code != 200:
        raise HistoryError(f"GET {path} answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise HistoryError(f"GET {path}: the answer is not JSON") from None


def _message(item: Any, path: str) -> RemoteMessage:
    if not isinstance(item, dict) or not isinstance(item.get("content"), str):
        raise HistoryError(f"GET {path}: a message without text content: {str(item)[:80]}")
    metadata = item.get("metadata")
    return RemoteMessage(
        _number(item.get("number")),
        _text(item.get("role")) or "assistant",
        item["content"],
        _text(item.get("timestamp")),
        metadata if isinstance(metadata, dict) else {},
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
