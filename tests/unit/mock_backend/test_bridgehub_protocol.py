"""The BridgeHub request the server builds (docs/protocol.md §1.4) and how its payload is read."""

from __future__ import annotations

import json

import pytest

from mock_backend.bridgehub.protocol import BridgeHubError, answer_from_payload, build_request


def _history(n: int) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(n)]


def test_jarvis_request_matches_the_contract() -> None:
    request = build_request(
        agent="claude",
        session_id="d-claude-t",
        message="hello",
        history=_history(3),
        message_count=3,
        capsule="/capsule",
        system_context="You are Jarvis.",
    )
    assert {k: request[k] for k in ("version", "action", "capsule", "session")} == {
        "version": "bridgehub/1.0",
        "action": "freeform",
        "capsule": "/capsule",
        "session": "d-claude-t",
    }
    payload = request["payload"]
    assert payload["message"] == "hello"
    assert payload["intent"] == "mobile_claude_query"
    assert payload["direction"] == "codex_to_claude"
    assert payload["metadata"] == {"source": "builderos_mobile", "message_count": 3}
    titles = [(c["title"], c["role"]) for c in payload["context"]]
    assert titles == [("System Context", "system"), ("Conversation History", "note")]
    assert json.loads(payload["context"][1]["content"]) == _history(3)


def test_codex_request_has_no_system_context_and_carries_attachments() -> None:
    attachment = {"id": "1", "filename": "a.txt", "url": "http://x/uploads/a.txt"}
    request = build_request(
        agent="codex",
        session_id="s",
        message="see file",
        history=_history(1),
        message_count=1,
        capsule=".",
        attachments=[attachment],
    )
    payload = request["payload"]
    assert payload["intent"] == "mobile_codex_query"
    assert payload["direction"] == "claude_to_codex"
    assert [c["title"] for c in payload["context"]] == ["Conversation History", "Attachments"]
    assert json.loads(payload["context"][1]["content"]) == [attachment]
    assert payload["metadata"]["attachments"] == [attachment]


def test_history_is_cut_to_the_last_50_messages() -> None:
    request = build_request(
        agent="claude",
        session_id="s",
        message="m119",
        history=_history(120),
        message_count=120,
        capsule=".",
    )
    history = json.loads(request["payload"]["context"][0]["content"])
    assert len(history) == 50
    assert history[0]["content"] == "m70" and history[-1]["content"] == "m119"


@pytest.mark.parametrize(
    ("payload", "answer"),
    [
        ({"ok": True, "summary": "s", "data": {"output": "the output"}}, "the output"),
        ({"ok": True, "summary": "the summary", "data": {}}, "the summary"),
        ({"ok": True, "summary": "the summary", "data": None}, "the summary"),
    ],
)
def test_answer_is_output_else_summary(payload: dict, answer: str) -> None:
    assert answer_from_payload(json.dumps(payload)) == answer


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"ok": true, "data": null}', "no output and no summary"),
        (
            '{"ok": false, "reason": "agent crashed", "details": "exit 137"}',
            "agent crashed (exit 137)",
        ),
        ('{"ok": false}', "no reason given"),
    ],
)
def test_unusable_payloads_raise_a_readable_error(text: str, message: str) -> None:
    with pytest.raises(BridgeHubError, match=message.replace("(", r"\(").replace(")", r"\)")):
        answer_from_payload(text)
