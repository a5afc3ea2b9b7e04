"""Fuzzing both frame parsers: whatever text arrives, the server's parse_chat_frame answers with
a request, nothing, or a FrameError (never another exception, never text SQLite cannot hold),
and the client's protocol turns it into events (never an exception). The cases an adversarial
run found are named examples. BUILDEROS_FUZZ_EXAMPLES raises the number of inputs tried."""

from __future__ import annotations

import json
import os

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_backend.wire import ChatRequest, FrameError, parse_chat_frame
from tui.client.protocol import ClientProtocol

EXAMPLES = int(os.environ.get("BUILDEROS_FUZZ_EXAMPLES", "100"))
DEEP = "[" * 1000 + "]" * 1000
LONE = "\ud83d"

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
chat_like = st.fixed_dictionaries(
    {},
    optional={
        "content": values | st.text(max_size=200),
        "session_id": values | st.text(max_size=300),
        "device_id": values | st.text(max_size=300),
        "chat_type": values,
        "attachments": values,
        "working_directory": values,
        "type": st.sampled_from(["message", "stream", "complete", "error", "ready", "x"]),
        "message_count": values,
        "usage": values,
        "features": values,
        "detail": values,
    },
)
frames = st.one_of(
    st.text(max_size=300),
    chat_like.map(json.dumps),
    chat_like.map(lambda d: json.dumps(d, ensure_ascii=False)),
    values.map(json.dumps),
)


def encodable(request: ChatRequest) -> None:
    for text in (request.content, request.session_id, request.device_id, request.chat_type):
        text.encode("utf-8")
    json.dumps(request.attachments).encode("utf-8")


@settings(max_examples=EXAMPLES, deadline=None)
@given(frames)
@example(DEEP)
@example('{"content": ' + DEEP + "}")
@example(json.dumps({"content": f"half {LONE}", "session_id": "s"}))
@example(json.dumps({"content": "x", "session_id": f"s{LONE}"}))
@example(json.dumps({"content": "x", "device_id": f"d{LONE}"}))
@example(json.dumps({"content": "x", "session_id": "s" * 10_000}))
@example(json.dumps({"content": "x", "session_id": "a\x00b"}))
@example(json.dumps({"content": ""}))
@example(json.dumps({"working_directory": "/x"}))
@example("[]")
@example("null")
def test_the_server_parser_answers_everything_cleanly(frame: str) -> None:
    try:
        request = parse_chat_frame(frame, "claude")
    except FrameError as error:
        json.dumps(error.frame()).encode("utf-8")
        return
    if request is not None:
        encodable(request)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.one_of(frames, st.binary(max_size=40)), max_size=8), st.booleans())
@example([DEEP], True)
@example([json.dumps({"type": "message", "content": "x" + LONE}), DEEP], True)
@example(["error:" + LONE], False)
@example([json.dumps({"type": "ready", "features": {LONE: 1}})], False)
def test_the_client_protocol_turns_everything_into_events(
    received: list[str | bytes], open_first: bool
) -> None:
    protocol = ClientProtocol("t")
    protocol.start()
    if open_first:
        protocol.receive("authenticated")
        protocol.receive(json.dumps({"type": "ready", "content": "", "features": {}}))
        protocol.expect_reply("m1")
    for frame in received:
        for event in protocol.receive(frame):
            repr(event).encode("utf-8")  # every text in an event can be shown and stored
    for event in protocol.connection_lost():
        repr(event).encode("utf-8")
