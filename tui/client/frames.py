"""Client-side wire format of CONTRACT.md §2, sans I/O: URLs, outgoing frames, incoming events."""

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


def close_url(base_url: str, provider: Provider, session_id: str) -> str:
    base = normalise_base_url(base_url)
    return f"{base}/api/{provider}/session/{quote(session_id, safe='')}/close"


def chat_frame(
    content: str,
    session_id: str,
    device_id: str,
    provider: Provider,
    attachments: list[dict[str, Any]] | None = None,
) -> str:
    frame: dict[str, Any] = {
        "content": content,
        "session_id": session_id,
        "device_id": device_id,
        "chat_type": "jarvis" if provider == "claude" else "codex",
    }
    if attachments is not None:
        frame["attachments"] = attachments
    return json.dumps(frame)


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


@dataclass(frozen=True)
class Chunk:
    text: str


@dataclass(frozen=True)
class Complete:
    message_count: int | None
    usage: dict[str, int] | None = None


@dataclass(frozen=True)
class ServerError:
    content: str
    detail: str | None = None


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
    Authenticated | AuthRefused | Ready | Chunk | Complete | ServerError | Ignored | Unexpected
)


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
    kind, content = data.get("type"), data.get("content")
    if kind in ("message", "stream"):
        return (
            Chunk(content)
            if isinstance(content, str)
            else Unexpected(excerpt(raw), "chunk without text")
        )
    if kind == "complete":
        count = data.get("message_count")
        usage = data.get("usage")
        return Complete(
            count if isinstance(count, int) and not isinstance(count, bool) else None,
            {
                clean_text(k): v
                for k, v in usage.items()
                if isinstance(v, int) and not isinstance(v, bool)
            }
            if isinstance(usage, dict)
            else None,
        )
    if kind == "error":
        detail = data.get("detail")
        return ServerError(
            clean_text(content) if isinstance(content, str) else "unknown error",
            clean_text(detail) if isinstance(detail, str) else None,
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
