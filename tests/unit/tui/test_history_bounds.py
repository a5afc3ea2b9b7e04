"""The HTTP helpers against a backend that answers what it should not (docs/safety.md): whatever it
sends, the answer is the helper's own error or a bounded result that says what was left out.
The backend is respx's (no socket); tests/functional/tui/test_hostile_http.py has real ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tui.client.frames import path_segment
from tui.client.history import (
    HistoryError,
    Limits,
    RemoteSession,
    fetch_history,
    list_sessions,
)
from tui.client.http import close_session
from tui.client.uploads import UploadError, upload

BASE = "http://backend.test"
LONE = "\ud83d"


@pytest.fixture
def backend() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def message(number: int, **extra: Any) -> dict[str, Any]:
    return {"number": number, "role": "user", "content": f"m{number}", "timestamp": "t", **extra}


def page(numbers: range, next_before: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"messages": [message(n) for n in numbers], "next_before": next_before}
    )


class Paged:
    """A session of `total` messages served as the protocol says, newest page first, with
    the page size the client asks for (or `page_size` when the server ignores it)."""

    def __init__(self, total: int, page_size: int | None = None) -> None:
        self.total = total
        self.page_size = page_size
        self.asked: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        self.asked.append(query)
        before = int(query.get("before", self.total + 1))
        size = self.page_size or int(query["limit"])
        first = max(1, before - size)
        return page(range(first, before), first if first > 1 else None)


def test_an_id_is_one_path_segment_whatever_it_holds() -> None:
    assert path_segment("../../canary/walked?x=") == "..%2F..%2Fcanary%2Fwalked%3Fx%3D"
    assert path_segment("..") == "%2E%2E" and path_segment(".") == "%2E"
    assert path_segment("a\x1bb c#") == "a%1Bb%20c%23"
    assert httpx.URL(f"{BASE}/api/sessions/{path_segment('..')}/messages").raw_path == (
        b"/api/sessions/%2E%2E/messages"
    )


async def test_an_id_with_a_control_character_is_fetched_not_raised(
    backend: respx.MockRouter,
) -> None:
    """Before: `httpx.InvalidURL` escaped and took the app down (Enter on an F4 row)."""
    route = backend.get(url__regex=r".*").mock(return_value=page(range(1, 3), None))
    history = await fetch_history(BASE, "t", "dev-claude-\x1b[2J")
    assert [m.number for m in history or []] == [1, 2]
    assert route.calls.last.request.url.raw_path.startswith(
        b"/api/sessions/dev-claude-%1B%5B2J/messages?"
    )


@pytest.mark.parametrize(
    "failure",
    [
        httpx.InvalidURL("Invalid non-printable ASCII character in URL"),
        UnicodeEncodeError("ascii", "é", 0, 1, "ordinal not in range(128)"),
        ExceptionGroup("unhandled errors in a TaskGroup", [OverflowError("port out of range")]),
        ValueError("odd"),
    ],
    ids=["InvalidURL", "UnicodeEncodeError", "ExceptionGroup", "ValueError"],
)
async def test_whatever_httpx_raises_is_the_helpers_own_error(
    backend: respx.MockRouter, failure: Exception, tmp_path: Path
) -> None:
    backend.route().mock(side_effect=failure)
    with pytest.raises(HistoryError, match="cannot reach"):
        await list_sessions(BASE)
    with pytest.raises(HistoryError, match="cannot reach"):
        await fetch_history(BASE, "t", "s")
    closed = await close_session(BASE, "t", "claude", "s")
    assert not closed.closed and closed.status is None and type(failure).__name__ in closed.message
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(UploadError, match="not uploaded"):
        await upload(BASE, "t", path)


async def test_a_page_over_the_limit_asked_keeps_its_newest_and_says_so(
    backend: respx.MockRouter,
) -> None:
    """Before: one page of a million messages froze the app for a minute."""
    server = Paged(3_000, page_size=1_200)
    backend.get(url__regex=r".*/messages").mock(side_effect=server)
    history = await fetch_history(BASE, "t", "s", limits=Limits(page_size=500))
    assert history is not None
    assert all(query["limit"] == "500" for query in server.asked)
    numbers = [m.number for m in history]
    assert numbers[-500:] == list(range(2_501, 3_001)), "the newest page's newest 500"
    assert numbers == sorted(numbers) and len(numbers) <= 3 * 500
    assert "1,200 messages where 500 were asked" in history.cut


async def test_next_before_that_does_not_go_back_is_a_loop_stopped_at_once(
    backend: respx.MockRouter,
) -> None:
    """Before: `next_before` alternating 5, 6, 5, … paged until memory ran out."""
    asked: list[str | None] = []

    def alternating(request: httpx.Request) -> httpx.Response:
        before = request.url.params.get("before")
        asked.append(before)
        following = 6 if before == "5" else 5
        return page(range(1, 3), following)

    backend.get(url__regex=r".*/messages").mock(side_effect=alternating)
    history = await fetch_history(BASE, "t", "s")
    assert history is not None and asked == [None, "5"]
    assert "paging went in a loop (next_before 6 after 5)" in history.cut
    assert "history cut at 4 messages" in history.cut


async def test_a_history_stops_at_its_message_cap_with_the_newest(
    backend: respx.MockRouter,
) -> None:
    server = Paged(5_000)
    backend.get(url__regex=r".*/messages").mock(side_effect=server)
    history = await fetch_history(BASE, "t", "s", limits=Limits(page_size=300, messages=1_000))
    assert history is not None
    assert [m.number for m in history] == list(range(4_001, 5_001))
    assert history.cut == "history cut at 1,000 messages: the older ones were not fetched"
    assert len(server.asked) == 4
    whole = await fetch_history(BASE, "t", "s", limits=Limits(page_size=500))
    assert whole is not None and len(whole) == 5_000 and whole.cut == ""


async def test_a_history_stops_at_its_byte_cap(backend: respx.MockRouter) -> None:
    backend.get(url__regex=r".*/messages").mock(side_effect=Paged(5_000))
    history = await fetch_history(BASE, "t", "s", limits=Limits(history_bytes=40_000))
    assert history is not None and 0 < len(history) < 5_000
    assert history.cut.startswith(f"history cut at {len(history):,} messages: its pages are over")


async def test_a_page_over_its_byte_cap_is_an_error(backend: respx.MockRouter) -> None:
    big = json.dumps({"messages": [message(1, content="x" * 5_000)], "next_before": None})
    backend.get(url__regex=r".*/messages").mock(return_value=httpx.Response(200, text=big))
    with pytest.raises(HistoryError, match="a page of history is over 4,096 bytes"):
        await fetch_history(BASE, "t", "s", limits=Limits(page_bytes=4_096))


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "body",
    ['{"messages": [' + DEEP + "]}", '{"messages": [], "x": ' + DEEP + "}", DEEP],
    ids=["in the list", "beside it", "the answer"],
)
async def test_a_page_nested_past_what_the_decoder_can_is_an_error(
    backend: respx.MockRouter, body: str
) -> None:
    """Before: the decoder's RecursionError escaped."""
    backend.get(url__regex=r".*/messages").mock(return_value=httpx.Response(200, text=body))
    with pytest.raises(HistoryError, match=r"nested too deeply|not a JSON object"):
        await fetch_history(BASE, "t", "s")


async def test_text_utf8_cannot_hold_is_cleaned(backend: respx.MockRouter) -> None:
    body = {"messages": [message(1, content=f"half {LONE}", timestamp=LONE)], "next_before": None}
    backend.get(url__regex=r".*/messages").mock(  # ASCII-escaped, as a JavaScript relay sends it
        return_value=httpx.Response(200, text=json.dumps(body))
    )
    sessions = {"sessions": [{"session_id": f"s{LONE}", "device_id": LONE, "last_activity": "t"}]}
    backend.get("/api/sessions").mock(return_value=httpx.Response(200, text=json.dumps(sessions)))
    (got,) = await fetch_history(BASE, "t", "s") or []
    (listed,) = await list_sessions(BASE)
    for text in (got.content, got.timestamp, listed.session_id, listed.device_id):
        assert text.encode("utf-8") and "\ufffd" in text


def sessions_body(count: int) -> dict[str, Any]:
    return {
        "total": count,
        "sessions": [
            {
                "session_id": f"dev-claude-{n:06d}",
                "agent_type": "claude",
                "device_id": "dev",
                "message_count": 2,
                "created_at": "2026-01-01T00:00:00",
                "last_activity": f"2026-01-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}",
            }
            for n in range(count)
        ],
    }


async def test_the_sessions_kept_are_the_most_recent_and_the_rest_counted(
    backend: respx.MockRouter,
) -> None:
    body = sessions_body(500)
    body["sessions"][3:3] = [7, {"session_id": 9}, "odd"]  # not sessions: neither kept nor counted
    backend.get("/api/sessions").mock(return_value=httpx.Response(200, json=body))
    listing = await list_sessions(BASE, limits=Limits(sessions=50))
    assert [s.session_id for s in listing] == [f"dev-claude-{n:06d}" for n in range(499, 449, -1)]
    assert listing.not_shown == 450 and listing.note == "450 more not shown"
    everything = await list_sessions(BASE)
    assert len(everything) == 500 and everything.note == ""
    assert everything[0] == RemoteSession(
        "dev-claude-000499", "claude", "dev", 2, "2026-01-01T00:00:00", "2026-01-01T00:08:19"
    )


async def test_a_sessions_list_over_its_byte_cap_keeps_what_it_read(
    backend: respx.MockRouter,
) -> None:
    backend.get("/api/sessions").mock(return_value=httpx.Response(200, json=sessions_body(1_000)))
    listing = await list_sessions(BASE, limits=Limits(sessions=10, sessions_bytes=50_000))
    assert len(listing) == 10 and listing.uncounted and 100 < listing.not_shown < 990
    assert listing.note.endswith("+ more not shown (the backend's list is too long to read)")
    broken = '{"total": 1, "sessions": [' + "x" * 60_000
    backend.get("/api/sessions").mock(return_value=httpx.Response(200, text=broken))
    with pytest.raises(HistoryError):
        await list_sessions(BASE, limits=Limits(sessions_bytes=50_000))
