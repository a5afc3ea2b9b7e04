"""The BridgeHub request fits one command-line argument (Linux refuses one over 128 KiB): the
oldest history goes first, then an over-long message is cut with a marker, then the system
context; the metadata says what was left out."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_backend.bridgehub.protocol import MAX_REQUEST_BYTES, build_request, context_item


def request(message: str, history: list[dict[str, str]], system: str | None = None) -> dict:
    return build_request(
        agent="claude",
        session_id="s",
        message=message,
        history=[*history, {"role": "user", "content": message}],
        message_count=len(history) + 1,
        capsule=".",
        system_context=system,
    )


def size(built: dict) -> int:
    return len(json.dumps(built))


def test_a_small_request_is_left_alone() -> None:
    built = request("hi", [{"role": "assistant", "content": "hello"}])
    assert "left_out" not in built["payload"]["metadata"]
    assert json.loads(context_item(built, "Conversation History") or "")[-1]["content"] == "hi"


def test_a_long_answer_in_history_drops_the_oldest_messages_first() -> None:
    history = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "word " * 40_000},  # ~200,000 characters
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": "short answer"},
    ]
    built = request("third question", history, system="You are **Jarvis**. " * 1700)
    assert size(built) <= MAX_REQUEST_BYTES
    kept = json.loads(context_item(built, "Conversation History") or "")
    assert [m["content"] for m in kept] == ["second question", "short answer", "third question"]
    assert built["payload"]["metadata"]["left_out"] == {"history_messages": 2}
    assert built["payload"]["message"] == "third question"


def test_an_over_long_message_is_cut_in_the_middle_with_a_marker() -> None:
    message = "BEGIN " + "x" * 300_000 + " END"
    built = request(message, [])
    assert size(built) <= MAX_REQUEST_BYTES
    sent = built["payload"]["message"]
    assert sent.startswith("BEGIN ") and sent.endswith(" END")
    assert "characters left out to fit BridgeHub's limit" in sent
    head, _, tail = sent.split("\n")
    left = built["payload"]["metadata"]["left_out"]["message_chars"]
    assert left == len(message) - len(head) - len(tail) and f"{left:,} characters" in sent
    assert size(built) > MAX_REQUEST_BYTES - 5_000, "only as much is cut as needed"
    history = json.loads(context_item(built, "Conversation History") or "")
    assert history[-1]["content"] == sent


@settings(max_examples=30, deadline=None)
@given(
    st.text(max_size=3000),
    st.lists(st.text(min_size=0, max_size=60_000), max_size=6),
    st.one_of(st.none(), st.text(max_size=60_000)),
    st.integers(10_000, 150_000),
)
def test_any_request_fits_its_budget(
    message: str, earlier: list[str], system: str | None, budget: int
) -> None:
    history = [{"role": "user", "content": text} for text in earlier]
    built = build_request(
        agent="claude",
        session_id="s",
        message=message * 40,
        history=[*history, {"role": "user", "content": message * 40}],
        message_count=1,
        capsule=".",
        system_context=system,
        budget=budget,
    )
    assert size(built) <= budget
