"""A conversation as a file: Markdown to read or share, JSON to keep (lossless: it reads back
into the same messages)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localdata.private import private_file
from tui.client import attachments
from tui.client.activity import ICONS, SAID, Activity, activity_of
from tui.client.frames import clean_text
from tui.client.history import RemoteMessage
from tui.client.sync import short_id
from tui.store import ChatStore, Status, StoredMessage, status_of

FORMAT = "builderos-conversation"
VERSION = 1
AUTHORS = {"user": "You", "error": "Error"}


@dataclass
class Conversation:
    session_id: str
    messages: list[StoredMessage]
    title: str = ""
    provider: str = ""
    source: str = "local"
    """Where the messages came from: `local` (this machine's history) or the backend's URL."""
    exported_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


class NotAConversation(ValueError):
    """The file is not a conversation this version can read; the text says why."""


def agent_name(provider: str) -> str:
    return "Codex" if provider == "codex" else "Jarvis"


def from_backend(
    messages: list[RemoteMessage], this_device: str | None = None
) -> list[StoredMessage]:
    """The backend's history of a session as this machine stores messages (ids as the app
    gives them, where the backend kept the client's). The metadata is the server's and is
    trusted for nothing: a role or status this client does not know becomes the plain one,
    text that UTF-8 cannot hold is cleaned, and nothing in it can raise. A user turn another
    device sent (its `metadata.device_id` is not `this_device`) is marked with it."""
    return [_stored(m, this_device) for m in messages]


REMOTE_STATUSES = frozenset({"complete", "error", "interrupted", "stopped"})
"""The statuses an assistant turn can have in the backend's history (docs/protocol.md)."""


def _stored(message: RemoteMessage, this_device: str | None) -> StoredMessage:
    status: Status
    sender = message.metadata.get("device_id")
    device = None
    if message.role == "user" and isinstance(sender, str) and sender and sender != this_device:
        device = short_id(clean_text(sender))
    if message.role == "user":
        role, status = "user", "acknowledged"
    else:
        role = "assistant"
        remote = message.status if message.status in REMOTE_STATUSES else "complete"
        status = status_of(remote)
    return StoredMessage(
        clean_text(message.msg_id),
        role,
        clean_text(message.content),
        status,
        clean_text(message.timestamp),
        attachments=attachments.from_list(message.metadata.get("attachments")),
        activity=activity_of(message.metadata) if role == "assistant" else Activity(),
        device=device,
    )


def local_conversation(store: ChatStore, session_id: str) -> Conversation | None:
    """The session as this machine stored it (None: no message of it here). May raise
    StoreError."""
    messages = store.session_messages(session_id)
    known = next((s for s in store.sessions() if s.session_id == session_id), None)
    if not messages or known is None:
        return None
    return Conversation(session_id, messages, known.title, known.provider)


def render(conversation: Conversation, format: str) -> str:
    """`md` or `json`."""
    return to_json(conversation) if format == "json" else to_markdown(conversation)


def write(conversation: Conversation, format: str, path: Path) -> None:
    """Write it to `path`, readable by the user only (it holds a conversation). May raise
    OSError."""
    with private_file(path).open("w", encoding="utf-8") as out:
        out.write(render(conversation, format))


def to_markdown(conversation: Conversation) -> str:
    """Each message under a heading with its author and time; the replies' Markdown as is."""
    title = conversation.title or conversation.session_id
    lines = [
        f"# {title}",
        "",
        f"Session `{conversation.session_id}` · {len(conversation.messages)} messages · "
        f"exported {conversation.exported_at[:19].replace('T', ' ')} from {conversation.source}",
        "",
    ]
    agent = agent_name(conversation.provider)
    for message in conversation.messages:
        author = AUTHORS.get(message.role, agent)
        author += f" (on {message.device})" if message.device else ""
        note = "" if message.status in ("complete", "acknowledged", "error") else message.status
        when = message.timestamp[:19].replace("T", " ")
        heading = f"## {author} · {when}" + (f" · {note}" if note else "")
        lines += [heading, "", *_outline(message), ""]
        if message.attachments:  # links to where the backend keeps them
            lines += [f"- 📎 [{_escaped(a.label)}](<{a.url}>)" for a in message.attachments]
            lines.append("")
    return "\n".join(lines)


CHECKS = {"completed": "[x]", "in_progress": "[~]"}
"""A plan entry's box in Markdown (a task list); pending is `[ ]`."""


def _outline(message: StoredMessage) -> list[str]:
    """The reply's text with the agent's work where it happened: the plan as a task list on
    top, each tool call as a list item between the blocks of text it came between."""
    work = message.activity
    if not work:
        return [message.text.rstrip()]
    lines = []
    if work.plan:
        lines += ["**Plan**", ""]
        lines += [f"- {CHECKS.get(e.status, '[ ]')} {e.content}" for e in work.plan]
        lines.append("")
    text, shown = message.text, 0
    for item in sorted(work.items, key=lambda i: i.at):
        if item.at > shown:
            lines += [text[shown : item.at].strip(), ""]
            shown = item.at
        lines.append(f"- {ICONS.get(item.kind, '•')} {item.title} — {item.status}{item.took}")
        if (answer := work.answer_for(item.id)) is not None:
            lines.append(
                f"  asked first: {SAID.get(answer.decision, answer.decision)} ({answer.by})"
            )
        if item.diff is not None:
            lines.append(f"  diff of `{item.diff.path}` (whole in the JSON export)")
    lines.append("")
    if text[shown:].strip():
        lines.append(text[shown:].strip())
    return lines


def _escaped(label: str) -> str:
    return label.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def to_json(conversation: Conversation) -> str:
    document: dict[str, Any] = {"format": FORMAT, "version": VERSION, **asdict(conversation)}
    for message, stored in zip(document["messages"], conversation.messages, strict=True):
        message.pop("row", None)  # a row number of this machine's database, not the message's
        message.pop("activity", None)
        if stored.activity:  # as the server sends it: a file another version reads too
            message["activity"] = json.loads(stored.activity.dumps() or "{}")
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def from_json(text: str) -> Conversation:
    """Read what `to_json` wrote; anything else is refused with the reason."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotAConversation(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise NotAConversation(f"not a {FORMAT} file")
    if document.get("version") != VERSION:
        raise NotAConversation(f"version {document.get('version')!r}; this reads {VERSION}")
    try:
        messages = [
            StoredMessage(
                str(m["msg_id"]),
                str(m["role"]),
                str(m["text"]),
                status_of(m["status"], "acknowledged" if m["role"] == "user" else "complete"),
                str(m["timestamp"]),
                attachments=attachments.from_list(m.get("attachments")),
                activity=activity_of(m.get("activity")),
                device=str(m["device"]) if isinstance(m.get("device"), str) else None,
            )
            for m in document["messages"]
        ]
        return Conversation(
            session_id=str(document["session_id"]),
            messages=messages,
            title=str(document.get("title", "")),
            provider=str(document.get("provider", "")),
            source=str(document.get("source", "local")),
            exported_at=str(document.get("exported_at", "")),
        )
    except (KeyError, TypeError) as exc:
        raise NotAConversation(f"a message or field is missing or malformed: {exc}") from None
