"""`builderos chat --session`: a session made on another device opens in a tab with the
backend's history of it, and a follow-up keeps its context."""

from __future__ import annotations

import json
from pathlib import Path

from harness.driver import replies
from mock_backend import MockBackend
from tests.conftest import TOKEN
from tests.functional.mock_backend.client import open_chat
from tests.functional.tui.apphelpers import fast_backoff, started, type_and_send
from tui.app import ChatApp, ChatSetup
from tui.store import ChatStore

OTHER = "OTHER-claude-tab9"


async def made_on_another_device(backend: MockBackend) -> str:
    """The session OTHER, one exchange long; returns the reply's text."""
    client = await open_chat(backend)
    frame = {"content": "The code word is albatross.", "session_id": OTHER, "device_id": "OTHER"}
    await client.send(json.dumps({**frame, "id": "x1"}))
    reply = ""
    while (answer := json.loads(await client.recv())).get("type") != "complete":
        reply += answer["content"] if answer.get("type") == "message" else ""
    await client.close()
    return reply


def app_opening(tmp_path: Path, url: str, session: str) -> ChatApp:
    return ChatApp(
        ChatSetup(
            store=ChatStore(tmp_path / "history.db"),
            device_id="DEV",
            url=url,
            token=TOKEN,
            backoff=fast_backoff,
            open_session=session,
        )
    )


async def test_a_session_from_another_device_opens_with_its_history(
    backend: MockBackend, tmp_path: Path
) -> None:
    reply = await made_on_another_device(backend)
    app = app_opening(tmp_path, backend.url, OTHER)
    async with app.run_test() as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        await watch.until(
            lambda: app.workspace is not None and app.workspace.selected.session_id == OTHER
        )
        tab = app.workspace.selected
        assert [(m.msg_id, m.role) for m in tab.messages] == [
            ("x1", "user"),
            ("x1:reply", "assistant"),
        ]
        assert len(app.workspace.tabs) == 2, "beside the tab this machine starts with"
        assert tab.title == "Claude · OTHER", "the tab says which device the session is from"
        await type_and_send(pilot, "What was the code word?")
        await watch.until(lambda: len(replies(tab)) == 2 and tab.live is None)
        assert "albatross" in replies(tab)[-1].text, "the follow-up kept the session's context"
        # the first resume replayed the session's every frame: the reply kept from the
        # backend's history was not streamed into again (it was shown twice over)
        assert replies(tab)[0].text == reply
        saved = app.setup.store.session_messages(OTHER)
        assert [m.text for m in saved if m.msg_id == "x1:reply"] == [reply]
    reopened = app_opening(tmp_path, backend.url, OTHER)
    async with reopened.run_test() as pilot:  # already a tab here: shown, not opened twice
        watch = await started(pilot)
        await watch.until(
            lambda: (
                reopened.workspace is not None and reopened.workspace.selected.session_id == OTHER
            )
        )
        assert reopened.workspace is not None and len(reopened.workspace.tabs) == 2
        assert len(reopened.workspace.selected.messages) == 4


async def test_an_unknown_session_opens_empty_and_says_where_it_came_from(
    backend: MockBackend, tmp_path: Path
) -> None:
    app = app_opening(tmp_path, backend.url, "DEV-claude-fresh")
    async with app.run_test() as pilot:
        watch = await started(pilot)
        await watch.until(
            lambda: (
                app.workspace is not None
                and app.workspace.selected.session_id == "DEV-claude-fresh"
            )
        )
    assert any("0 messages from this machine's history" in n for n in app.notices), app.notices
