"""The BridgeHub CLI protocol (docs/protocol.md §1.4), sans I/O.

The server runs `bridgehub --request '<json>'` once per message; BridgeHub prints log lines and
one `JARVIS_PAYLOAD=<json>` line. Building the request and reading the payload are pure, so the
simulated BridgeHub, the subprocess adapter and the fake BridgeHub program share them.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)

PAYLOAD_PREFIX = "JARVIS_PAYLOAD="
HISTORY_LIMIT = 50


class BridgeHubError(Exception):
    """BridgeHub gave no usable answer; the text is shown to the user in an error frame."""


class BridgeHub(Protocol):
    async def ask(self, request: dict[str, Any]) -> str:
        """Return the answer text, or raise BridgeHubError."""
        ...

    def health(self) -> dict[str, Any]: ...


MAX_REQUEST_BYTES = 120_000
"""The request travels as one command-line argument, and Linux refuses a single argument over
128 KiB (MAX_ARG_STRLEN, "Argument list too long"): one long answer in a session's history
would otherwise make every later turn of that session fail."""


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
    budget: int = MAX_REQUEST_BYTES,
    omitted: int = 0,
) -> dict[str, Any]:
    """The request the server hands BridgeHub for one user message, at most `budget` bytes as
    JSON.

    `history` is the session's last messages, the new one included (`omitted`: how many
    older ones the caller already left out to fit). A Jarvis session's
    system context (its CLAUDE.md) goes first, as a `system` note BridgeHub accepts. To fit,
    the oldest history goes first, then an over-long message is cut in the middle with a
    visible marker, then the system context; `metadata.left_out` says what was left out.
    """
    recent = history[-HISTORY_LIMIT:]
    left_out: dict[str, int] = {"history_messages": omitted} if omitted else {}

    def assemble() -> dict[str, Any]:
        context: list[dict[str, str]] = []
        if system_context:
            context.append({"title": "System Context", "role": "system", "content": system_context})
        context.append(
            {"title": "Conversation History", "role": "note", "content": json.dumps(recent)}
        )
        metadata: dict[str, Any] = {"source": "builderos_mobile", "message_count": message_count}
        if attachments:
            context.append(
                {"title": "Attachments", "role": "note", "content": json.dumps(attachments)}
            )
            metadata["attachments"] = attachments
        if left_out:
            metadata["left_out"] = dict(left_out)
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

    def overflow() -> int:
        return len(json.dumps(assemble())) - budget  # ASCII JSON: characters are bytes

    if overflow() > 0 and len(recent) > 1:
        # Keep the newest entries that fit, sized one by one (serialising the whole request
        # once per dropped entry cost seconds on a long history). In the request each entry
        # stands inside a JSON string: its size there is its JSON, escaped again, plus ", ".
        newest, older = recent[-1:], recent[:-1]
        recent = newest
        room = -overflow()
        kept = 0
        for entry in reversed(older):
            room -= len(json.dumps(json.dumps(entry))) - 2 + 2
            if room < 0:
                break
            kept += 1
        recent = [*older[len(older) - kept :], *newest]
        if len(older) - kept:
            left_out["history_messages"] = omitted + len(older) - kept
    while overflow() > 0 and len(recent) > 1:  # never needed by the arithmetic; a safety net
        recent = recent[1:]
        left_out["history_messages"] = left_out.get("history_messages", 0) + 1
    original, cut_by = message, 0
    in_history = bool(recent) and recent[-1].get("content") == original
    places = 2 if in_history else 1
    while (over := overflow()) > 0 and cut_by < len(original):
        # each character removed saves a byte or more in each place the message stands
        cut_by = min(len(original), cut_by + -(-over // places) + MARGIN)
        message = _cut(original, cut_by)
        left_out["message_chars"] = cut_by
        if in_history:
            recent = [*recent[:-1], {**recent[-1], "content": message}]
    original, cut_by = system_context or "", 0
    while (over := overflow()) > 0 and system_context and cut_by < len(original):
        cut_by = min(len(original), cut_by + over + MARGIN)
        system_context = _cut(original, cut_by)
        left_out["system_context_chars"] = cut_by
    request = assemble()
    if left_out:
        log.warning("BridgeHub request for %s cut to fit: %s", session_id, left_out)
    return request


MARGIN = 200
"""Bytes of room for the marker a cut leaves."""


def _cut(text: str, remove: int) -> str:
    """`text` without `remove` characters from its middle, and a marker saying so."""
    start = max(0, (len(text) - remove) // 2)
    end = min(len(text), start + remove)
    marker = f"\n[… {end - start:,} characters left out to fit BridgeHub's limit …]\n"
    return text[:start] + marker + text[end:]


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
