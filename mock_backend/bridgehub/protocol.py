"""The BridgeHub CLI protocol (CONTRACT.md §4), sans I/O.

The server runs `bridgehub --request '<json>'` once per message; BridgeHub prints log lines and
one `JARVIS_PAYLOAD=<json>` line. Building the request and reading the payload are pure, so the
simulated BridgeHub, the subprocess adapter and the fake BridgeHub program share them.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

PAYLOAD_PREFIX = "JARVIS_PAYLOAD="
HISTORY_LIMIT = 50


class BridgeHubError(Exception):
    """BridgeHub gave no usable answer; the text is shown to the user in an error frame."""


class BridgeHub(Protocol):
    async def ask(self, request: dict[str, Any]) -> str:
        """Return the answer text, or raise BridgeHubError."""
        ...

    def health(self) -> dict[str, Any]: ...


def build_request(
    *,
    agent: str,
    session_id: str,
    message: str,
    history: list[dict[str, str]],
    message_count: int,
    capsule: str,
    attachments: list[dict[str, Any]] | None = None,
    system_context: str | None = None,
) -> dict[str, Any]:
    """The request the server hands BridgeHub for one user message.

    `history` is the session's last messages, the new one included. A Jarvis session's
    system context (its CLAUDE.md) goes first, as a `system` note BridgeHub accepts.
    """
    context: list[dict[str, str]] = []
    if system_context:
        context.append({"title": "System Context", "role": "system", "content": system_context})
    context.append(
        {
            "title": "Conversation History",
            "role": "note",
            "content": json.dumps(history[-HISTORY_LIMIT:]),
        }
    )
    metadata: dict[str, Any] = {"source": "builderos_mobile", "message_count": message_count}
    if attachments:
        context.append({"title": "Attachments", "role": "note", "content": json.dumps(attachments)})
        metadata["attachments"] = attachments
    jarvis = agent == "claude"
    return {
        "version": "bridgehub/1.0",
        "action": "freeform",
        "capsule": capsule,
        "session": session_id,
        "payload": {
            "message": message,
            "intent": "mobile_claude_query" if jarvis else "mobile_codex_query",
            "direction": "codex_to_claude" if jarvis else "claude_to_codex",
            "context": context,
            "metadata": metadata,
        },
    }


def context_item(request: dict[str, Any], title: str) -> str | None:
    for item in request.get("payload", {}).get("context", []):
        if isinstance(item, dict) and item.get("title") == title:
            content = item.get("content")
            return content if isinstance(content, str) else None
    return None


def answer_from_payload(payload_json: str) -> str:
    """The answer in a `JARVIS_PAYLOAD=` line's JSON: `data.output`, else `summary`.

    Everything the reference server tripped on (invalid JSON, `data: null`, a payload that is
    not an object, an empty answer) becomes a BridgeHubError with a readable reason.
    """
    try:
        payload = json.loads(payload_json)
    except ValueError as exc:
        raise BridgeHubError(
            f"BridgeHub printed a payload that is not valid JSON ({exc})"
        ) from None
    if not isinstance(payload, dict):
        raise BridgeHubError("BridgeHub printed a payload that is not a JSON object")
    if payload.get("ok") is not True:
        reason = payload.get("reason") or "no reason given"
        details = payload.get("details")
        text = f"BridgeHub failed: {reason}"
        raise BridgeHubError(f"{text} ({details})" if details else text)
    data = payload.get("data")
    output = data.get("output") if isinstance(data, dict) else None
    if isinstance(output, str) and output:
        return output
    summary = payload.get("summary")
    if isinstance(summary, str) and summary:
        return summary
    raise BridgeHubError("BridgeHub answered ok but with no output and no summary")


def payload_line(payload: dict[str, Any]) -> str:
    return PAYLOAD_PREFIX + json.dumps(payload)
