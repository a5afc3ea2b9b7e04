"""The backend's sessions (`GET /api/sessions`) and a session's stored history (`GET
/api/sessions/{id}/messages`, delivery extension), decoded defensively.

Nothing a server answers can hang, crash or exhaust the client (docs/safety.md): every request has a
total deadline (body included), every body is read up to a byte cap, the list of sessions keeps
the most recent `MAX_SESSIONS` and counts the rest, and a history stops at `MAX_MESSAGES` /
`MAX_HISTORY_BYTES` or at paging that does not go back. An answer that is not what
docs/protocol.md says is a `HistoryError` with the reason; a history that was cut says so in
`History.cut`; a list of sessions that was capped says so in `SessionListing.note`.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.client.frames import clean_text, normalise_base_url, path_segment
from tui.client.sync import Device, devices_of

if TYPE_CHECKING:  # httpx is imported where a request is made: a CLI that makes none starts
    pass  # without it (it takes a quarter of a second to import)

MiB = 1024 * 1024

DEADLINE = 30.0
"""Seconds one request may take, its whole body included. httpx's own timeout restarts on
every byte, so a body trickling one byte a second would otherwise never end."""
HISTORY_DEADLINE = 300.0
"""Seconds a whole history (every page of it) may take."""
PAGE_SIZE = 500
"""Messages asked for per page (`?limit=`, the protocol's maximum). A page holding more is
cut to its newest `PAGE_SIZE` and the history says so (`History.cut`): paging goes on."""
MAX_PAGE_BYTES = 32 * MiB
"""One page's body is read up to this; a page past it is a `HistoryError`."""
MAX_MESSAGES = 100_000
"""A history keeps at most this many messages, the newest; `History.cut` says it was cut."""
MAX_HISTORY_BYTES = 256 * MiB
"""The pages of one history may weigh this much together; past it the history is cut."""
MAX_PAGES = 10_000
"""A server that keeps answering `next_before` forever is cut off here."""
MAX_SESSIONS = 2_000
"""`list_sessions` keeps this many sessions, the most recent; the rest are only counted."""
MAX_SESSIONS_BYTES = 64 * MiB
"""The `/api/sessions` body is read up to this (about 300,000 sessions); the sessions read by
then are kept and the rest is said to be more than counted."""


@dataclass(frozen=True)
class Limits:
    """What one answer or one history may cost; the defaults are the module's constants (a
    test passes smaller ones)."""

    deadline: float = DEADLINE
    history_deadline: float = HISTORY_DEADLINE
    page_size: int = PAGE_SIZE
    page_bytes: int = MAX_PAGE_BYTES
    messages: int = MAX_MESSAGES
    history_bytes: int = MAX_HISTORY_BYTES
    pages: int = MAX_PAGES
    sessions: int = MAX_SESSIONS
    sessions_bytes: int = MAX_SESSIONS_BYTES


LIMITS = Limits()
"""What `list_sessions` and `fetch_history` use unless given other limits."""


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
    busy: bool = False
    """A reply is being written or waits its turn (sync, docs/protocol.md §5.3)."""
    devices: tuple[Device, ...] = ()
    """The devices on it now (sync)."""


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


class SessionListing(list[RemoteSession]):
    """The backend's sessions, the most recent first, at most `Limits.sessions` of them. A list,
    so callers that only want the sessions need not change; `note` says what was left out."""

    def __init__(
        self, sessions: Iterable[RemoteSession] = (), not_shown: int = 0, uncounted: bool = False
    ) -> None:
        super().__init__(sessions)
        self.not_shown = not_shown
        """Sessions the backend listed past the cap (counted, not decoded)."""
        self.uncounted = uncounted
        """The list was over `Limits.sessions_bytes`: there are more than `not_shown`."""

    @property
    def note(self) -> str:
        """`""` when every session is here, else e.g. `198,000 more not shown`."""
        if self.uncounted:
            return f"{self.not_shown:,}+ more not shown (the backend's list is too long to read)"
        return f"{self.not_shown:,} more not shown" if self.not_shown else ""


class History(list[RemoteMessage]):
    """A session's history, oldest first. A list, so callers that only want the messages need
    not change; `cut` says why it may not be the whole history (`""`: it is)."""

    def __init__(self, messages: Iterable[RemoteMessage] = (), cut: str = "") -> None:
        super().__init__(messages)
        self.cut = cut


async def list_sessions(base_url: str, *, limits: Limits | None = None) -> SessionListing:
    """The backend's sessions; the most recent `limits.sessions` are decoded, the others
    counted. `limits`: the module's `LIMITS` (read at each call) unless given."""
    limits = limits or LIMITS
    url = _url(base_url, "/api/sessions")
    answer = await _read(url, {}, {}, limits.deadline, limits.sessions_bytes)
    if answer.status != 200:
        raise HistoryError(_refused("GET /api/sessions", answer.status))
    newest: list[tuple[str, int, dict[str, Any]]] = []
    seen = 0

    def keep(entry: Any) -> None:
        nonlocal seen
        if not isinstance(entry, dict) or not isinstance(entry.get("session_id"), str):
            return  # one odd entry does not hide the others
        seen += 1
        stamp = entry.get("last_activity")
        if not isinstance(stamp, str):
            stamp = ""
        if len(newest) < limits.sessions:
            heapq.heappush(newest, (stamp, -seen, entry))
        elif stamp > newest[0][0]:  # on a tie, the one listed first stays
            heapq.heapreplace(newest, (stamp, -seen, entry))

    members = _decode("GET /api/sessions", answer, "sessions", keep)
    if not members.found:
        raise HistoryError("GET /api/sessions: the answer has no `sessions` list")
    newest.sort(key=lambda item: item[:2], reverse=True)
    sessions = (
        RemoteSession(
            clean_text(entry["session_id"]),
            _text(entry.get("agent_type")),
            _text(entry.get("device_id")),
            _number(entry.get("message_count")),
            _text(entry.get("created_at")),
            clean_text(last_activity),
            entry.get("busy") is True,
            devices_of(entry.get("devices")),
        )
        for last_activity, _, entry in newest
    )
    return SessionListing(sessions, seen - len(newest), uncounted=members.cut_short)


async def fetch_history(
    base_url: str, token: str, session_id: str, *, limits: Limits | None = None
) -> History | None:
    """The whole history, oldest first, fetched a page at a time, newest page first; None
    when the backend has none for this session (404: an unknown session, or a server without
    the extension). Cut (with `History.cut` saying so) at the message and byte caps, at an
    over-full page, and when `next_before` does not go back. `limits`: as `list_sessions`."""
    limits = limits or LIMITS
    url = _url(base_url, f"/api/sessions/{path_segment(session_id)}/messages")
    where = f"GET /api/sessions/{path_segment(session_id)}/messages"
    headers = {"X-API-Key": token}
    newest_first: list[list[RemoteMessage]] = []
    count = size = 0
    cut = ""
    before: int | None = None
    try:
        async with asyncio.timeout(limits.history_deadline):
            for _ in range(limits.pages):
                params = {"limit": str(limits.page_size)}
                if before is not None:
                    params["before"] = str(before)
                answer = await _read(url, headers, params, limits.deadline, limits.page_bytes)
                if answer.status == 404 and not newest_first:
                    return None
                if answer.status != 200:
                    raise HistoryError(_refused(where, answer.status))
                if not answer.complete:
                    raise HistoryError(
                        f"{where}: a page of history is over {_size(limits.page_bytes)}"
                    )
                page: deque[Any] = deque(maxlen=limits.page_size)
                members = _decode(where, answer, "messages", page.append)
                if not members.found:
                    raise HistoryError(f"{where}: the answer has no `messages` list")
                sent = members.items
                if sent > limits.page_size and not cut:
                    cut = (
                        f"a page held {sent:,} messages where {limits.page_size} were asked: "
                        f"only its newest {limits.page_size} are kept"
                    )
                messages = [_message(item, where) for item in page]
                room = limits.messages - count
                if len(messages) > room:
                    newest_first.append(messages[len(messages) - room :])
                    count += room
                    cut = f"history cut at {count:,} messages: the older ones were not fetched"
                    break
                newest_first.append(messages)
                count += len(messages)
                size += len(answer.body)
                following = members.others.get("next_before")
                if not messages or not isinstance(following, int) or isinstance(following, bool):
                    break  # the beginning of the session
                if size > limits.history_bytes:
                    cut = (
                        f"history cut at {count:,} messages: its pages are over "
                        f"{_size(limits.history_bytes)}; the older ones were not fetched"
                    )
                    break
                if before is not None and following >= before:
                    cut = (
                        f"history cut at {count:,} messages: the backend's paging went in a "
                        f"loop (next_before {following} after {before})"
                    )
                    break
                before = following
            else:
                cut = (
                    f"history cut at {count:,} messages: more than {limits.pages:,} pages; "
                    "the older ones were not fetched"
                )
    except TimeoutError:
        raise HistoryError(
            f"{url}: the history was not complete within {limits.history_deadline:g} s"
        ) from None
    return History((m for page in reversed(newest_first) for m in page), cut)


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    complete: bool
    """False: the body went on past the cap and was cut there."""


async def _read(
    url: str, headers: dict[str, str], params: dict[str, str], wait: float, cap: int
) -> _Answer:
    """GET `url`; the body of a 200 read up to `cap` bytes, all within `wait` seconds."""
    import httpx

    try:
        async with (
            asyncio.timeout(wait),
            httpx.AsyncClient(timeout=wait) as http,
            http.stream("GET", url, headers=headers, params=params) as response,
        ):
            if response.status_code != 200:
                return _Answer(response.status_code, b"", True)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > cap:
                    return _Answer(200, bytes(body[:cap]), False)
            return _Answer(200, bytes(body), True)
    except TimeoutError:
        raise HistoryError(f"{url}: no complete answer within {wait:g} s") from None
    except Exception as exc:  # httpx raises more than HTTPError for odd input
        # (InvalidURL, UnicodeEncodeError for a header, an ExceptionGroup for a bad port):
        # whatever it is, the caller gets a HistoryError, never a crash.
        raise HistoryError(f"cannot reach {url} ({exc.__class__.__name__}: {exc})") from None


def _url(base_url: str, path: str) -> str:
    try:
        return normalise_base_url(base_url) + path
    except ValueError as exc:
        raise HistoryError(str(exc)) from None


def _refused(where: str, status: int) -> str:
    if status == 401:
        return f"{where}: the backend refused the token (401)"
    return f"{where} answered {status}"


def _size(limit: int) -> str:
    return f"{limit / MiB:g} MiB" if limit >= MiB else f"{limit:,} bytes"


# decoding a body without holding all of it ------------------------------------------------------

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass
class _Members:
    """A top-level JSON object as `_decode` read it."""

    others: dict[str, Any]
    """Every member but the list."""
    found: bool = False
    """The object has the list."""
    items: int = 0
    """How many items the list holds."""
    cut_short: bool = False
    """The body was cut at its cap inside the list: there are more items than `items`."""


def _decode(where: str, answer: _Answer, key: str, each: Callable[[Any], None]) -> _Members:
    """The object the body holds, its list `key` handed to `each` one item at a time instead of
    being kept: a list of a million entries costs the time to read it, not the memory. A body
    cut at its cap is read up to the cut, as long as the cut falls inside the list."""
    raw = answer.body
    try:
        text = raw.decode(
            json.detect_encoding(raw), "surrogatepass" if answer.complete else "ignore"
        )
        return _walk(text, key, each, answer.complete)
    except RecursionError:
        raise HistoryError(f"{where}: the answer is nested too deeply") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, or not an object
        if not answer.complete:
            raise HistoryError(f"{where}: the answer is too long to read") from None
        raise HistoryError(f"{where}: the answer is not a JSON object") from None


def _walk(text: str, key: str, each: Callable[[Any], None], complete: bool) -> _Members:
    members = _Members({})
    at = _skip(text, 0)
    if not text.startswith("{", at):
        raise ValueError("not a JSON object")
    at = _skip(text, at + 1)
    if text.startswith("}", at):
        return _end(text, at, members)
    while True:
        name, at = _DECODER.raw_decode(text, at)
        if not isinstance(name, str):
            raise ValueError("a member name that is not a string")
        at = _skip(text, at)
        if not text.startswith(":", at):
            raise ValueError("':' expected")
        at = _skip(text, at + 1)
        if name == key and text.startswith("[", at):
            members.found = True
            try:
                at = _items(text, at, each, members)
            except ValueError:
                if complete or not members.items:
                    raise
                members.cut_short = True  # the cap fell inside the list: what came before counts
                return members
        else:
            members.others[name], at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if text.startswith(",", at):
            at = _skip(text, at + 1)
        elif text.startswith("}", at):
            return _end(text, at, members)
        else:
            raise ValueError("',' or '}' expected")


def _items(text: str, at: int, each: Callable[[Any], None], members: _Members) -> int:
    """Hand every item of the list opening at `at` to `each`; the position after it. The
    decoder's scanner is called directly: this loop runs once per item of a list that may
    hold hundreds of thousands."""
    scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
    space = _SPACE.match
    at = _skip(text, at + 1)
    if text.startswith("]", at):
        return at + 1
    count = 0
    try:
        while True:
            try:
                item, at = scan(text, at)
            except StopIteration:
                raise ValueError("a value expected") from None
            count += 1
            each(item)
            if gap := space(text, at):  # `[ \t\n\r]*` always matches
                at = gap.end()
            mark = text[at : at + 1]
            if mark == ",":
                at = _skip(text, at + 1)
            elif mark == "]":
                return at + 1
            else:
                raise ValueError("',' or ']' expected")
    finally:
        members.items += count


def _end(text: str, at: int, members: _Members) -> _Members:
    if _skip(text, at + 1) != len(text):
        raise ValueError("extra data after the object")
    return members


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _message(item: Any, where: str) -> RemoteMessage:
    if not isinstance(item, dict) or not isinstance(item.get("content"), str):
        raise HistoryError(f"{where}: a message without text content: {str(item)[:80]}")
    metadata = item.get("metadata")
    return RemoteMessage(
        _number(item.get("number")),
        _text(item.get("role")) or "assistant",
        clean_text(item["content"]),
        _text(item.get("timestamp")),
        metadata if isinstance(metadata, dict) else {},
    )


def _text(value: Any) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
