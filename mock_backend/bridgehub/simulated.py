"""The built-in simulated BridgeHub: deterministic Markdown answers from the request alone.

It sees exactly what a real BridgeHub sees (the request of docs/protocol.md §1.4), so its memory is
the request's conversation history: it can only recall what was said in the same session.
Commands: `/long N` (about N words, to stress clients), `/fail [reason]` (an ok:false payload),
`/help`. Files attached to the message are acknowledged by name and size, with the first lines
of a text file when the server can read it (`read_upload`), so attachments are testable end to
end.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

from mock_backend.bridgehub.protocol import answer_from_payload, context_item

MAX_LONG_WORDS = 200_000

_WORD = re.compile(r"[\w][\w'-]*", re.UNICODE)
_STOP = frozenset(
    """a an and are be been but by can could did do does for from had has have he her his how i
    i'd i'll i'm in is it it's its just let me mine my of on or our please recall remember said say
    she so tell that the their them then there these they this to told us was we were what what's
    whats when where which who whom why will with would you you're your yours again earlier before
    know called call back""".split()
)
_RECALL_START = re.compile(
    r"^\s*(what|what's|whats|who|which|when|where|do you (still )?remember|can you recall|"
    r"recall|tell me|remind me)\b",
    re.IGNORECASE,
)
_MEMO_START = re.compile(r"^\s*(remember|note|keep in mind|don't forget)\b", re.IGNORECASE)
_SELF_FACT = re.compile(r"\bmy [\w ]{1,30}? (is|are)\b", re.IGNORECASE)
_CODE_WORDS = re.compile(
    r"\b(code|function|python|script|snippet|class|implement|example|bug|refactor|regex|sql)\b",
    re.IGNORECASE,
)
_VOCABULARY = """session socket stream chunk backend relay terminal client history context agent
token frame reply message capsule bridge tab device storage latency render buffer""".split()


def _norm(word: str) -> str:
    word = word.lower().strip("'-")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _keywords(text: str) -> set[str]:
    return {_norm(w) for w in _WORD.findall(text)} - _STOP


def identity(system_context: str | None, jarvis: bool) -> str:
    """The agent's name: Codex, or for Jarvis the name its CLAUDE.md gives it."""
    if not jarvis:
        return "Codex"
    if system_context:
        found = re.search(r"\byou are\s+\**([A-Z][\w-]*)", system_context, re.IGNORECASE)
        if found:
            return found.group(1)
    return "Jarvis"


def _history(request: dict[str, Any]) -> list[dict[str, str]]:
    raw = context_item(request, "Conversation History")
    try:
        items = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [m for m in items if isinstance(m, dict) and isinstance(m.get("content"), str)]


def _is_question(message: str) -> bool:
    return bool(_RECALL_START.search(message)) or message.rstrip().endswith("?")


def _recall(question: str, earlier: list[dict[str, str]], name: str) -> str | None:
    """The earlier user message that best answers the question: what the user *stated*
    ("the code word is amber") before what they asked ("what was the code word?"), and among
    equals the most recent."""
    asked = _keywords(question)
    best: tuple[bool, int, int] | None = None  # (a statement, score, index)
    for index, message in enumerate(earlier):
        if message.get("role") != "user":
            continue
        score = len(asked & _keywords(message["content"]))
        candidate = (not _is_question(message["content"]), score, index)
        if score and (best is None or candidate >= best):
            best = candidate
    if best is None:
        return None
    said = earlier[best[2]]["content"].strip()
    answer = [w for w in _WORD.findall(said) if _norm(w) not in asked and w.lower() not in _STOP]
    lines = [
        f"**{name}** — from earlier in this conversation",
        "",
        f'You told me: "{said}"',
        "",
    ]
    if answer:
        lines.append(f"- So the answer is **{' '.join(answer)}**.")
    position = sum(1 for m in earlier[: best[2] + 1] if m.get("role") == "user")
    lines.append(f"- That was your message {position} in this session.")
    return "\n".join(lines)


def _long_reply(words: int, name: str) -> str:
    words = max(1, min(words, MAX_LONG_WORDS))
    parts = [f"# A long answer from {name}", ""]
    written, section = 0, 0
    while written < words:
        section += 1
        parts += [f"## Part {section}", ""]
        sentence = [
            _VOCABULARY[(section * 7 + i * 3) % len(_VOCABULARY)] for i in range(min(60, words))
        ]
        parts += [" ".join(sentence).capitalize() + ".", ""]
        parts += [
            f"- point {section}.{k}: {_VOCABULARY[(section + k) % len(_VOCABULARY)]}"
            for k in (1, 2, 3)
        ]
        parts.append("")
        written += len(sentence) + 9
        if section % 3 == 0:
            parts += [
                "```python",
                f"def part_{section}() -> int:",
                f"    return {section}",
                "```",
                "",
            ]
            written += 6
    return "\n".join(parts).rstrip() + "\n"


def _code_reply(message: str, name: str) -> str:
    topic = " ".join(_WORD.findall(message)[:8]) or "your request"
    return "\n".join(
        [
            f"## {name}: a sketch for “{topic}”",
            "",
            "- a small, typed function",
            "- a docstring that says why",
            "- a test you can run",
            "",
            "```python",
            "def summarise(text: str) -> dict[str, int]:",
            '    """Count words and lines so a reviewer sees the size at a glance."""',
            '    return {"words": len(text.split()), "lines": text.count("\\n") + 1}',
            "",
            "",
            "def test_summarise() -> None:",
            '    assert summarise("a b\\nc") == {"words": 3, "lines": 2}',
            "```",
        ]
    )


def _help(name: str) -> str:
    return "\n".join(
        [
            f"**{name}** (simulated BridgeHub) understands:",
            "",
            "- `/long N` — an answer of about N words",
            "- `/fail [reason]` — a BridgeHub failure",
            "- questions about what you said earlier in this session",
            "- anything about code — an answer with a fenced code block",
        ]
    )


def _plain_reply(message: str, name: str, earlier_count: int) -> str:
    words = len(message.split())
    lead = "Got it — I'll remember that." if _is_memo(message) else f"{name} here."
    return "\n".join(
        [
            f"**{lead}**",
            "",
            f'You said: "{message.strip()}"',
            "",
            f"- {words} word{'s' if words != 1 else ''} received",
            f"- {earlier_count} earlier message{'s' if earlier_count != 1 else ''} in this session",
            "- try `/help` to see what this simulated agent can do",
        ]
    )


def _is_memo(message: str) -> bool:
    return bool(
        _MEMO_START.search(message) or _SELF_FACT.search(message)
    ) and not message.rstrip().endswith("?")


PREVIEW_BYTES = 4096
PREVIEW_LINES = 3
ReadUpload = Callable[[str], bytes | None]
"""The start of an uploaded file, from its url (None: not an upload of this server)."""


def _attached(payload: dict[str, Any]) -> list[dict[str, Any]]:
    metadata = payload.get("metadata")
    items = metadata.get("attachments") if isinstance(metadata, dict) else None
    return [a for a in items if isinstance(a, dict)] if isinstance(items, list) else []


def _preview(content: bytes | None) -> list[str]:
    """The first lines of a text file, in a code block; a note for anything else."""
    if content is None:
        return ["  (not found among this server's uploads)"]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(content) - 3:  # not a character cut at the end of the sample
            return ["  (binary: no text to quote)"]
        text = content[: exc.start].decode("utf-8")
    lines = [line.rstrip() for line in text.splitlines() if line.strip()][:PREVIEW_LINES]
    if not lines:
        return ["  (empty)"]
    return ["", "  It begins:", "", "  ```text", *(f"  {line[:120]}" for line in lines), "  ```"]


def _acknowledge(attachments: list[dict[str, Any]], read: ReadUpload | None) -> list[str]:
    count = len(attachments)
    lines = [f"**{count} file{'s' if count != 1 else ''} attached:**", ""]
    for item in attachments:
        name = item.get("filename") if isinstance(item.get("filename"), str) else "(no name)"
        size = item.get("size") if isinstance(item.get("size"), int) else None
        mime = item.get("mime_type") if isinstance(item.get("mime_type"), str) else "unknown type"
        sized = f"{size:,} bytes" if size is not None else "size unknown"
        lines.append(f"- `{name}` — {mime}, {sized}")
        url = item.get("url")
        if read is not None and isinstance(url, str):
            lines += _preview(read(url))
    return [*lines, ""]


def respond(request: dict[str, Any], read_upload: ReadUpload | None = None) -> dict[str, Any]:
    """The `JARVIS_PAYLOAD` object a BridgeHub would print for this request."""
    raw_payload = request.get("payload")
    payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
    raw_message = payload.get("message")
    message = raw_message if isinstance(raw_message, str) else ""
    jarvis = payload.get("direction") != "claude_to_codex"
    name = identity(context_item(request, "System Context"), jarvis)
    history = _history(request)
    if history and history[-1].get("role") == "user" and history[-1]["content"] == message:
        history = history[:-1]
    command = message.strip()

    if command.startswith("/fail"):
        reason = command[len("/fail") :].strip() or "simulated failure"
        return {"ok": False, "reason": reason, "details": "asked for with /fail"}
    if command.startswith("/long"):
        arg = command[len("/long") :].strip()
        output = _long_reply(int(arg) if arg.isdigit() else 1000, name)
    elif command == "/help":
        output = _help(name)
    elif (_RECALL_START.search(message) or message.rstrip().endswith("?")) and (
        recalled := _recall(message, history, name)
    ):
        output = recalled
    elif _CODE_WORDS.search(message) and not re.search(r"\bcode ?word\b", message, re.I):
        output = _code_reply(message, name)
    else:
        output = _plain_reply(message, name, len(history))
    if attachments := _attached(payload):
        output = "\n".join(_acknowledge(attachments, read_upload)) + "\n" + output
    return {
        "ok": True,
        "summary": output.splitlines()[0],
        "data": {"output": output, "agent": name},
    }


class SimulatedBridgeHub:
    """The default BridgeHub: answers in-process, no subprocess, no network."""

    def __init__(self, read_upload: ReadUpload | None = None) -> None:
        self.read_upload = read_upload

    def _answer(self, request: dict[str, Any]) -> str:
        return answer_from_payload(json.dumps(respond(request, self.read_upload)))

    async def ask(self, request: dict[str, Any]) -> str:
        """Answered in a worker thread: reading a long history (or an upload) is work that
        would otherwise stall every other client of the server."""
        return await asyncio.to_thread(self._answer, request)

    def health(self) -> dict[str, Any]:
        return {"ready": True, "mode": "simulated"}
