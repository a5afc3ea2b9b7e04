"""Client-side wire format of docs/protocol.md §1.2 and §2, sans I/O: URLs, outgoing frames,
incoming events."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

Provider = Literal["claude", "codex"]
PROVIDERS: tuple[Provider, ...] = ("claude", "codex")
DISPLAY_NAMES: dict[Provider, str] = {"claude": "Claude", "codex": "Codex"}


class BadURL(ValueError):
    """The backend URL is not an http(s) URL."""


def normalise_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadURL(f"not an http(s) URL: {base_url!r} (expected e.g. http://localhost:8080)")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def ws_url(base_url: str, provider: Provider) -> str:
    """`http://h/x` → `ws://h/x/api/claude/ws`, `https` → `wss`, as the iOS app builds it."""
    base = normalise_base_url(base_url)
    scheme, rest = base.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/api/{provider}/ws"


def path_segment(value: str) -> str:
    """`value` as one URL path segment: every reserved character percent-encoded, and `.` /
    `..` too, which a URL library would otherwise resolve as "this" or "the parent" folder
    (an id `../../x` once made the client GET /x with its token)."""
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


def close_url(base_url: str, provider: Provider, session_id: str) -> str:
    base = normalise_base_url(base_url)
    return f"{base}/api/{provider}/session/{path_segment(session_id)}/close"


def chat_frame(
    content: str,
    session_id: str,
    device_id: str,
    provider: Provider,
    attachments: list[dict[str, Any]] | None = None,
    msg_id: str | None = None,
) -> str:
    """A chat frame; `msg_id` only for a server with the delivery extension."""
    frame: dict[str, Any] = {
        "content": content,
        "session_id": session_id,
        "device_id": device_id,
        "chat_type": "jarvis" if provider == "claude" else "codex",
    }
    if attachments is not None:
        frame["attachments"] = attachments
    if msg_id is not None:
        frame["id"] = msg_id
    return json.dumps(frame)


def resume_frame(session_id: str, after: int) -> str:
    return json.dumps({"type": "resume", "session_id": session_id, "after": after})


def hello_frame(accept: list[str], device_id: str, device_name: str = "") -> str:
    """The extensions of docs/protocol.md §4 and §5 this socket wants, and who it is."""
    named = {"device_name": device_name} if device_name else {}
    return json.dumps({"type": "hello", "accept": accept, "device_id": device_id, **named})


def approve_frame(session_id: str, approval_id: str, decision: str) -> str:
    return json.dumps(
        {"type": "approve", "session_id": session_id, "id": approval_id, "decision": decision}
    )


def stop_frame(session_id: str, msg_id: str | None) -> str:
    return json.dumps({"type": "stop", "session_id": session_id, "id": msg_id})


# incoming ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authenticated:
    pass


@dataclass(frozen=True)
class AuthRefused:
    """A plain-text `error:<what>` (e.g. `error:invalid_api_key`)."""

    what: str


@dataclass(frozen=True)
class Ready:
    content: str
    features: dict[str, bool] = field(default_factory=dict)


MAX_SEQ = 2**53 - 1
"""The largest frame number taken: JSON's exact-integer range, and well inside SQLite's. A frame
numbered outside 1…MAX_SEQ, or with a `seq` that is not a whole number, is reported and skipped
(a number of 10**30 once lost every later reply of its tab)."""


@dataclass(frozen=True)
class Numbered:
    """The delivery extension's marks on a reply frame (None from a reference server), and
    the session a frame names, if it names one."""

    reply_to: str | None = field(default=None, kw_only=True)
    seq: int | None = field(default=None, kw_only=True)
    session_id: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class Chunk(Numbered):
    text: str


@dataclass(frozen=True)
class Complete(Numbered):
    message_count: int | None
    usage: dict[str, int] | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class ServerError(Numbered):
    content: str
    detail: str | None = None


@dataclass(frozen=True)
class Ack(Numbered):
    """The server stored the user turn `msg_id`; `state` is where its reply stands."""

    msg_id: str
    state: str
    duplicate: bool = False


@dataclass(frozen=True)
class Stopped(Numbered):
    """The reply was stopped on request; its partial answer is stored as stopped."""


@dataclass(frozen=True)
class Cut(Numbered):
    """The server ended a reply unfinished (`interrupted`: it restarted, the session closed)."""

    why: str


@dataclass(frozen=True)
class Resumed:
    """The replay asked for is over: frames up to `seq` were sent; `running` go on live."""

    seq: int
    running: tuple[str, ...]


AGENT_FRAMES = frozenset({"activity", "plan", "approval", "approved", "skip"})
"""The frames of docs/protocol.md §4 (`skip`: a numbered frame this socket did not ask for)."""
SYNC_FRAMES = frozenset({"turn", "presence", "closed"})
"""The frames of docs/protocol.md §5."""


@dataclass(frozen=True)
class AgentFrame(Numbered):
    """A frame of the extensions of docs/protocol.md §4 (activity, plan, approvals) or §5
    (sync), as the JSON object it came in: tui.client.activity and tui.client.sync read its
    fields, defensively."""

    kind: str
    data: dict[str, Any] = field(hash=False, compare=False)


@dataclass(frozen=True)
class Ignored:
    """A frame the app ignores by design (the `working_directory` echo before ready)."""

    raw: str


@dataclass(frozen=True)
class Unexpected:
    """Anything else: reported to the user, never a crash."""

    raw: str
    why: str


Incoming = (
    Authenticated
    | AuthRefused
    | Ready
    | Chunk
    | Complete
    | ServerError
    | Ack
    | Stopped
    | Cut
    | Resumed
    | AgentFrame
    | Ignored
    | Unexpected
)


def valid_seq(value: object, *, lowest: int = 1) -> bool:
    """A frame number the client can take: a whole number within lowest…MAX_SEQ."""
    return isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= MAX_SEQ


class _BadMarks(ValueError):
    """A reply frame whose `seq` or `reply_to` cannot be trusted: the frame is skipped."""


def _marks(data: dict[str, Any]) -> dict[str, Any]:
    """`reply_to`, `seq` and `session_id` as the frame gives them (absent: None); a `seq` or
    `reply_to` that is present but not what docs/protocol.md says raises `_BadMarks`, since
    taking such a frame as unnumbered would misplace it."""
    reply_to, seq, session = data.get("reply_to"), data.get("seq"), data.get("session_id")
    if seq is not None and not valid_seq(seq):
        raise _BadMarks(f"sequence number {_short(seq)} is not a whole number in 1…{MAX_SEQ}")
    if reply_to is not None and not (isinstance(reply_to, str) and reply_to):
        raise _BadMarks(f"reply_to {_short(reply_to)} is not an id")
    return {
        "reply_to": clean_text(reply_to) if reply_to is not None else None,
        "seq": seq,
        "session_id": clean_text(session) if isinstance(session, str) else None,
    }


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text that can be stored and shown. A JavaScript relay that cuts a string inside an emoji
    leaves a lone UTF-16 surrogate, which UTF-8 (SQLite, the terminal) cannot encode: pairs are
    joined into their character, lone ones become U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def ends_in_high_surrogate(text: str) -> bool:
    """The first half of a character whose second half may come in the next chunk."""
    return bool(text) and "\ud800" <= text[-1] <= "\udbff"


def excerpt(raw: str | bytes) -> str:
    """A frame, short enough to show in a message (and clean: see `clean_text`)."""
    text = raw if isinstance(raw, str) else f"<{len(raw)} binary bytes>"
    return clean_text(text if len(text) <= 200 else text[:200] + "…")


def decode(raw: str | bytes) -> Incoming:
    """One server frame → one event. Never raises.

    Every text it returns is clean (`clean_text`) except a chunk's, which may end in half a
    character: the protocol joins it with the next chunk first.
    """
    if isinstance(raw, bytes):
        return Unexpected(excerpt(raw), "binary frame")
    if raw == "authenticated":
        return Authenticated()
    if raw.startswith("error:"):
        return AuthRefused(clean_text(raw[len("error:") :]) or "unknown")
    try:
        data: Any = json.loads(raw)
    except ValueError:
        return Unexpected(excerpt(raw), "not JSON")
    except RecursionError:
        return Unexpected(excerpt(raw), "JSON nested too deeply")
    if not isinstance(data, dict):
        return Unexpected(excerpt(raw), "not a JSON object")
    try:
        return _decoded(data, raw)
    except _BadMarks as exc:
        return Unexpected(excerpt(raw), str(exc))


def _decoded(data: dict[str, Any], raw: str) -> Incoming:
    kind, content = data.get("type"), data.get("content")
    if kind in ("message", "stream"):
        return (
            Chunk(content, **_marks(data))
            if isinstance(content, str)
            else Unexpected(excerpt(raw), "chunk without text")
        )
    if kind in ("ack", "stopped", "interrupted", "resumed"):
        return _delivery(kind, data, raw)
    if kind in AGENT_FRAMES or kind in SYNC_FRAMES:
        return AgentFrame(kind, data, **_marks(data))
    if kind == "complete":
        count = data.get("message_count")
        usage = data.get("usage")
        cost = data.get("cost_usd")
        return Complete(
            count if isinstance(count, int) and not isinstance(count, bool) else None,
            {
                clean_text(k): v
                for k, v in usage.items()
                if isinstance(v, int) and not isinstance(v, bool)
            }
            if isinstance(usage, dict)
            else None,
            float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None,
            **_marks(data),
        )
    if kind == "error":
        detail = data.get("detail")
        return ServerError(
            clean_text(content) if isinstance(content, str) else "unknown error",
            clean_text(detail) if isinstance(detail, str) else None,
            **_marks(data),
        )
    if kind == "ready":
        features = data.get("features")
        return Ready(
            clean_text(content) if isinstance(content, str) else "",
            {clean_text(k): bool(v) for k, v in features.items()}
            if isinstance(features, dict)
            else {},
        )
    if "working_directory" in raw:
        return Ignored(excerpt(raw))
    return Unexpected(excerpt(raw), f"unknown frame type {clean_text(repr(kind))[:80]}")


def _delivery(kind: str, data: dict[str, Any], raw: str) -> Incoming:
    """The delivery extension's own frames (docs/protocol.md)."""
    if kind == "resumed":
        return _resumed(data, raw)
    marks = _marks(data)
    match kind:
        case "ack":
            msg_id, state = data.get("id"), data.get("state")
            if not isinstance(msg_id, str) or not msg_id:
                return Unexpected(excerpt(raw), "ack without an id")
            return Ack(
                clean_text(msg_id),
                clean_text(state) if isinstance(state, str) else "queued",
                data.get("duplicate") is True,
                seq=marks["seq"],
            )
        case "stopped":
            return Stopped(**marks)
        case "interrupted":
            content = data.get("content")
            return Cut(clean_text(content) if isinstance(content, str) else "", **marks)
    return Unexpected(excerpt(raw), f"unknown frame type {kind!r}")  # pragma: no cover


def _resumed(data: dict[str, Any], raw: str) -> Incoming:
    seq, running = data.get("seq"), data.get("running")
    if not valid_seq(seq, lowest=0):
        return Unexpected(excerpt(raw), "resumed without a sequence number")
    assert isinstance(seq, int)
    ids = running if isinstance(running, list) else []
    return Resumed(seq, tuple(clean_text(i) for i in ids if isinstance(i, str)))
