"""The simulated BridgeHub: deterministic Markdown, identity, recall within the request only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mock_backend.bridgehub.protocol import build_request
from mock_backend.bridgehub.simulated import ReadUpload, identity, respond
from mock_backend.config import sample_claude_md


def _answer(
    message: str,
    earlier: Sequence[str] = (),
    agent: str = "claude",
    context: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    read: ReadUpload | None = None,
) -> str:
    history = []
    for said in earlier:
        history += [{"role": "user", "content": said}, {"role": "assistant", "content": "ok"}]
    history.append({"role": "user", "content": message})
    request = build_request(
        agent=agent,
        session_id="s",
        message=message,
        history=history,
        message_count=len(history),
        capsule=".",
        system_context=context,
        attachments=attachments,
    )
    payload = respond(request, read)
    assert payload["ok"] is True
    return payload["data"]["output"]


def test_recalls_a_code_word_from_earlier_in_the_session() -> None:
    answer = _answer(
        "What was the code word?", ["Remember the code word BLUEBIRD-42", "Nice weather"]
    )
    assert "BLUEBIRD-42" in answer


def test_recalls_a_name() -> None:
    answer = _answer("What's my name?", ["My name is Ty", "I like tea"])
    assert "**Ty**" in answer


def test_prefers_the_best_matching_message() -> None:
    answer = _answer(
        "What is my favourite colour?",
        ["My name is Ty", "My favourite colour is teal", "My dog is Rex"],
    )
    assert "teal" in answer and "Rex" not in answer


def test_asked_again_it_quotes_the_statement_not_the_earlier_question() -> None:
    """Asking "What was the code word?" a second and third time used to answer with the
    first asking ('You told me: "What was the code word?"')."""
    earlier = ["The code word is amber-7.", "What was the code word?", "What was the code word?"]
    answer = _answer("What was the code word?", earlier)
    assert 'You told me: "The code word is amber-7."' in answer
    assert "amber-7" in answer


def test_with_only_questions_earlier_it_still_quotes_the_closest() -> None:
    answer = _answer("What was the plan?", ["What was the plan for Friday?"])
    assert "plan for Friday" in answer


def _attachment(name: str, size: int, mime: str = "text/plain") -> dict[str, Any]:
    url = f"http://h/uploads/{name}"
    return {
        "id": "a",
        "filename": name,
        "mime_type": mime,
        "size": size,
        "type": "document",
        "url": url,
    }


def test_attachments_are_acknowledged_with_the_start_of_a_text_file() -> None:
    uploads = {
        "http://h/uploads/notes.txt": b"\nShopping list\nmilk\neggs\nbread\n",
        "http://h/uploads/photo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
    }
    answer = _answer(
        "Here are my files.",
        attachments=[
            _attachment("notes.txt", 30),
            _attachment("photo.png", 2048, "image/png"),
            _attachment("gone.txt", 5),
        ],
        read=uploads.get,
    )
    assert "**3 files attached:**" in answer
    assert "- `notes.txt` — text/plain, 30 bytes" in answer
    assert "Shopping list\n  milk\n  eggs" in answer and "bread" not in answer, "three lines"
    assert "- `photo.png` — image/png, 2,048 bytes" in answer and "binary" in answer
    assert "not found among this server's uploads" in answer
    assert 'You said: "Here are my files."' in answer, "the usual reply follows"


def test_odd_attachment_entries_are_named_as_such_never_a_crash() -> None:
    odd: list[dict[str, Any]] = [{"filename": 7, "size": "big"}, {"url": None}]
    answer = _answer("Files.", attachments=odd, read=lambda url: None)
    assert "**2 files attached:**" in answer and "(no name)" in answer


def test_knows_nothing_outside_its_request() -> None:
    assert "BLUEBIRD" not in _answer("What was the code word?")


def test_speaks_as_jarvis_with_identity_from_claude_md() -> None:
    assert identity(sample_claude_md(), jarvis=True) == "Jarvis"
    assert identity("You are **Friday**, an assistant.", jarvis=True) == "Friday"
    assert _answer("hello", context="You are **Friday**.").startswith("**Friday here.**")
    assert _answer("hello", agent="codex").startswith("**Codex here.**")


def test_markdown_reply_has_a_lead_and_a_list() -> None:
    answer = _answer("hello there")
    assert answer.startswith("**") and "\n- " in answer


def test_code_questions_get_a_fenced_block() -> None:
    answer = _answer("Can you write a Python function to count words?")
    assert "```python" in answer and answer.rstrip().endswith("```")


def test_long_reply_is_about_the_asked_size() -> None:
    words = len(_answer("/long 5000").split())
    assert 4500 <= words <= 6500
    assert _answer("/long 5000") == _answer("/long 5000"), "deterministic"


def test_fail_command_gives_an_ok_false_payload() -> None:
    request = build_request(
        agent="codex",
        session_id="s",
        message="/fail disk on fire",
        history=[{"role": "user", "content": "/fail disk on fire"}],
        message_count=1,
        capsule=".",
    )
    assert respond(request) == {
        "ok": False,
        "reason": "disk on fire",
        "details": "asked for with /fail",
    }
