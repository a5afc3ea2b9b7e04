"""The server's rules for client frames (docs/protocol.md §1.2 steps 4, 5, 7), without sockets."""

from __future__ import annotations

import json

import pytest

from mock_backend.wire import MAX_FRAME_BYTES, FrameError, chunks, parse_chat_frame


def test_full_chat_frame_is_read() -> None:
    frame = {
        "content": "hi",
        "session_id": "dev-claude-tab",
        "device_id": "dev",
        "chat_type": "jarvis",
        "attachments": [{"id": "1", "filename": "a.png"}, "junk", 3],
    }
    chat = parse_chat_frame(json.dumps(frame), "claude")
    assert chat is not None
    assert (chat.content, chat.session_id, chat.device_id, chat.chat_type) == (
        "hi",
        "dev-claude-tab",
        "dev",
        "jarvis",
    )
    assert chat.attachments == [{"id": "1", "filename": "a.png"}], "non-object entries are dropped"


@pytest.mark.parametrize(
    ("agent", "session"), [("claude", "default-claude-session"), ("codex", "default-codex-session")]
)
def test_defaults_for_missing_ids(agent: str, session: str) -> None:
    chat = parse_chat_frame('{"content": "hi"}', agent)  # type: ignore[arg-type]
    assert chat is not None
    assert (chat.session_id, chat.device_id) == (session, "unknown-device")


@pytest.mark.parametrize(
    "text", ['{"working_directory": "/Users/ty"}', '{"content": ""}', '{"content": "  \\n "}']
)
def test_frames_ignored_without_answer(text: str) -> None:
    assert parse_chat_frame(text, "claude") is None


@pytest.mark.parametrize(
    ("text", "content", "detail"),
    [
        ("not json", "Invalid message format", "not JSON"),
        ("[1, 2]", "Invalid message format", "object"),
        ('"hello"', "Invalid message format", "object"),
        ('{"content": 5}', "Invalid message format", "content must be a string"),
        ('{"content": "x", "session_id": "' + "s" * 257 + '"}', "Invalid session_id", "256"),
        ('{"content": "x", "session_id": "a\\u0000b"}', "Invalid session_id", "control"),
        ('{"content": "x", "session_id": "a\\nb"}', "Invalid session_id", "control"),
        ('{"content": "x", "session_id": 7}', "Invalid session_id", "string"),
        ('{"content": "x", "device_id": "d\\u001b[31m"}', "Invalid device_id", "control"),
    ],
)
def test_bad_frames_get_a_clear_error(text: str, content: str, detail: str) -> None:
    with pytest.raises(FrameError) as caught:
        parse_chat_frame(text, "claude")
    frame = caught.value.frame()
    assert frame["type"] == "error" and frame["content"] == content
    assert detail in frame["detail"]


def test_oversized_frame_is_refused_before_parsing() -> None:
    text = json.dumps({"content": "x" * MAX_FRAME_BYTES})
    with pytest.raises(FrameError, match="too large"):
        parse_chat_frame(text, "claude")


def test_session_id_of_exactly_256_characters_is_fine() -> None:
    chat = parse_chat_frame(json.dumps({"content": "x", "session_id": "s" * 256}), "codex")
    assert chat is not None and len(chat.session_id) == 256


def test_chunks_cover_the_text_in_order() -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(1234))
    pieces = chunks(text, 100)
    assert "".join(pieces) == text
    assert [len(p) for p in pieces] == [100] * 12 + [34]
