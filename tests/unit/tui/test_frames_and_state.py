"""The client core's pure pieces: URLs, frame decoding, backoff, state labels."""

from __future__ import annotations

import json
import random

import pytest

from tui.client.backoff import Backoff
from tui.client.frames import (
    Authenticated,
    AuthRefused,
    BadURL,
    Chunk,
    Complete,
    Ignored,
    Ready,
    ServerError,
    Unexpected,
    chat_frame,
    close_url,
    decode,
    ws_url,
)
from tui.client.state import ConnectionState, Phase


@pytest.mark.parametrize(
    ("base", "provider", "expected"),
    [
        ("http://localhost:8080", "claude", "ws://localhost:8080/api/claude/ws"),
        ("https://mac.example.com/", "codex", "wss://mac.example.com/api/codex/ws"),
        ("http://h:1/prefix/", "claude", "ws://h:1/prefix/api/claude/ws"),
    ],
)
def test_ws_url_from_base_url(base: str, provider: str, expected: str) -> None:
    assert ws_url(base, provider) == expected  # type: ignore[arg-type]


def test_close_url_quotes_the_session_id() -> None:
    assert close_url("http://h", "codex", "a/b c") == "http://h/api/codex/session/a%2Fb%20c/close"


@pytest.mark.parametrize("bad", ["localhost:8080", "ftp://x", "http://", ""])
def test_bad_base_url_is_refused_clearly(bad: str) -> None:
    with pytest.raises(BadURL, match="http"):
        ws_url(bad, "claude")


def test_chat_frame_carries_the_contract_fields() -> None:
    assert json.loads(chat_frame("hi", "d-claude-t", "d", "claude")) == {
        "content": "hi",
        "session_id": "d-claude-t",
        "device_id": "d",
        "chat_type": "jarvis",
    }
    assert json.loads(chat_frame("hi", "s", "d", "codex"))["chat_type"] == "codex"


@pytest.mark.parametrize(
    ("raw", "event"),
    [
        ("authenticated", Authenticated()),
        ("error:invalid_api_key", AuthRefused("invalid_api_key")),
        ('{"type":"ready","content":"hi","features":{"x":1}}', Ready("hi", {"x": True})),
        ('{"type":"message","content":"a"}', Chunk("a")),
        ('{"type":"stream","content":"b"}', Chunk("b")),
        ('{"type":"complete","message_count":4}', Complete(4)),
        (
            '{"type":"complete","usage":{"input_tokens":3,"output_tokens":5,"x":"y"}}',
            Complete(None, {"input_tokens": 3, "output_tokens": 5}),
        ),
        ('{"type":"error","content":"boom","detail":"d"}', ServerError("boom", "d")),
        ('{"working_directory":"/x"}', Ignored('{"working_directory":"/x"}')),
    ],
)
def test_decode(raw: str, event: object) -> None:
    assert decode(raw) == event


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("garbage", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"type":"message","content":5}', "chunk without text"),
        ('{"type":"telemetry"}', "unknown frame type"),
        (b"\x00\x01", "binary frame"),
    ],
)
def test_anything_else_is_unexpected_never_an_exception(raw: str | bytes, why: str) -> None:
    event = decode(raw)
    assert isinstance(event, Unexpected) and why in event.why


def test_backoff_grows_with_full_jitter_to_a_cap() -> None:
    backoff = Backoff(rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(12)]
    ceilings = [min(10.0, 0.5 * 2**i) for i in range(12)]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert max(delays[6:]) > 2, "it grows"
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_state_labels_say_what_happens_next() -> None:
    assert ConnectionState(Phase.RECONNECTING, retry_at=103.2).label(100.0) == "reconnecting in 4 s"
    unreachable = ConnectionState(Phase.UNREACHABLE, "http://h:1", retry_at=101.0)
    assert unreachable.label(100.0) == "cannot reach http://h:1 — retrying in 1 s"
    refused = ConnectionState(Phase.AUTH_FAILED, "invalid_api_key").label(0)
    for fix in ("token refused", "--token", "BUILDEROS_TOKEN", "--save", "F5 retries the same"):
        assert fix in refused
