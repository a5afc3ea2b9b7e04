"""The agent's work in the app (docs/protocol.md §4), against the bundled mock's simulated agent:
its tool calls inside the reply in order, their details on a click or F7, its questions in a
dialog answered with a key, a question answered on another device closing here."""

from __future__ import annotations

import json
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static
from websockets.asyncio.client import connect

from tests.conftest import TOKEN, BackendFactory
from tests.functional.tui.apphelpers import drawn, make_app, started, type_and_send, view
from tui.app import ChatApp
from tui.model.export import Conversation, to_markdown
from tui.widgets.approval_dialog import ApprovalDialog
from tui.widgets.tab_bar import tab_label


def shown(app: ChatApp) -> str:
    """The conversation's lines as drawn."""
    log = view(app).log
    return "\n".join(strip.text for entry in log.entries for strip in log.lines_of(entry))


def highlighted(app: ChatApp) -> str:
    """The lines in view drawn reversed (the chosen tool call)."""
    log = view(app).log
    rows = (log.render_line(y) for y in range(log.size.height))
    return "\n".join(
        strip.text for strip in rows if any(s.style and s.style.reverse for s in strip)
    )


async def asked(pilot: Pilot[None], title: str) -> ApprovalDialog:
    app = pilot.app
    await drawn(
        pilot,
        lambda: isinstance(app.screen, ApprovalDialog) and app.screen.approval.item.title == title,
    )
    assert isinstance(app.screen, ApprovalDialog)
    return app.screen


async def test_the_work_is_shown_in_the_reply_and_each_question_answered_with_a_key(
    tmp_path: Path, start_backend: BackendFactory
) -> None:
    backend = await start_backend()
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(100, 40)) as pilot:
        watch = await started(pilot)
        await type_and_send(pilot, "fix the bug in app/parser.py")
        await asked(pilot, "Edit app/parser.py")
        assert app.workspace is not None
        assert tab_label(1, app.workspace.selected).endswith(" ?"), "the tab says it asks"
        await pilot.press("y")
        await asked(pilot, "Run pytest -q")
        await pilot.press("a")
        tab = app.workspace.selected if app.workspace else None
        assert tab is not None
        await watch.until(lambda: tab.live is None and tab.messages[-1].role == "assistant")
        reply = tab.messages[-1]
        assert [i.status for i in reply.activity.items] == ["completed"] * 4
        answered = [(a.decision, a.by) for a in reply.activity.answers]
        assert answered == [("allow_once", "this device"), ("allow_session", "this device")]
        assert "allowed once (this device)" in to_markdown(Conversation(tab.session_id, [reply]))
        server = backend.registry.store.all_messages(tab.session_id)[-1].metadata or {}
        assert [a["decision"] for a in server["answers"]] == ["allow_once", "allow_session"]
        text = shown(app)
        order = [text.index(s) for s in ("Let me look", "Read app/parser.py", "Edit app", "Done")]
        assert order == sorted(order), "the work sits between the text it came between"
        assert "☑ Run the tests" in text and "+++ b/app/parser.py" not in text
        await pilot.press("f7")
        await drawn(pilot, lambda: "+++ b/app/parser.py" in shown(app))
        assert "12 passed" in shown(app)
        await pilot.press("f7")
        await drawn(pilot, lambda: "+++ b/app/parser.py" not in shown(app))


async def test_a_question_answered_on_another_device_closes_here(
    tmp_path: Path, start_backend: BackendFactory
) -> None:
    backend = await start_backend()
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await type_and_send(pilot, "/approve")
        dialog = await asked(pilot, "Run ls -la")
        assert app.workspace is not None
        tab = app.workspace.selected
        async with connect(backend.ws_url("claude")) as phone:
            await phone.send(TOKEN)
            await phone.recv()
            await phone.recv()
            await phone.send(
                json.dumps({"type": "hello", "accept": ["approvals"], "device_id": "PHONE"})
            )
            await phone.send(
                json.dumps(
                    {
                        "type": "approve",
                        "session_id": tab.session_id,
                        "id": dialog.approval.id,
                        "decision": "deny",
                    }
                )
            )
            await drawn(pilot, lambda: not isinstance(app.screen, ApprovalDialog))
        await drawn(pilot, lambda: any("denied (PHONE)" in n for n in app.notices))
        await drawn(pilot, lambda: tab.live is None and tab.messages[-1].role == "assistant")
        assert tab.messages[-1].activity.items[-1].status == "failed"


async def test_quitting_mid_run_and_starting_again_resumes_the_work_exactly(
    tmp_path: Path, start_backend: BackendFactory
) -> None:
    backend = await start_backend(approvals="allow", chunk_delay=0.02)
    first = make_app(tmp_path, backend.url)
    async with first.run_test(size=(100, 40)) as pilot:
        watch = await started(pilot)
        await type_and_send(pilot, "/tools")
        assert first.workspace is not None
        tab = first.workspace.selected
        await watch.until(lambda: len(tab.reply.activity.items) >= 3, settle=False)
        assert tab.replying, "quit while the agent works"
    again = make_app(tmp_path, backend.url)
    async with again.run_test(size=(100, 40)) as pilot:
        watch = await started(pilot)
        assert again.workspace is not None
        tab = again.workspace.selected
        await watch.until(
            lambda: tab.live is None and tab.messages[-1].status == "complete", limit=30
        )
        items = tab.messages[-1].activity.items
        assert len(items) == len({i.id for i in items}) == 10, "each call once, none lost"
        assert all(i.status == "completed" for i in items)
        server = backend.registry.store.all_messages(tab.session_id)[-1].metadata or {}
        assert [i.id for i in items] == [i["id"] for i in server["activity"]]


async def test_the_keyboard_chooses_a_tool_call_and_enter_shows_its_details(
    tmp_path: Path, start_backend: BackendFactory
) -> None:
    backend = await start_backend(approvals="allow")
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(80, 24)) as pilot:
        watch = await started(pilot)
        await pilot.press("alt+up")
        await drawn(pilot, lambda: "No tool calls in this tab." in app.notices)
        await type_and_send(pilot, "fix the bug in app/parser.py")
        assert app.workspace is not None
        tab = app.workspace.selected
        await watch.until(lambda: tab.live is None and tab.messages[-1].role == "assistant")
        log = view(app).log
        ids = [item.id for item in tab.messages[-1].activity.items]
        await pilot.press("alt+up")  # the newest first: the test run
        await drawn(pilot, lambda: log.chosen == ids[-1])
        assert "tool call chosen" in str(view(app).query_one("#status", Static).render())
        assert "12 passed" not in shown(app)
        await pilot.press("enter")  # an empty box: the chosen call opens
        await drawn(pilot, lambda: "12 passed" in shown(app))
        await pilot.press("alt+up")
        await drawn(pilot, lambda: log.chosen == ids[-2])
        await pilot.press("enter")
        await drawn(pilot, lambda: "+++ b/app/parser.py" in shown(app))
        assert "Edit app/parser.py" in highlighted(app), "the chosen call stands out"
        await pilot.press("enter")  # and closes again
        await drawn(pilot, lambda: "+++ b/app/parser.py" not in shown(app))
        await pilot.press("alt+down", "alt+down")  # past the newest: none chosen
        await drawn(pilot, lambda: log.chosen is None and log.follow)
        await type_and_send(pilot, "thanks")  # Enter with text still sends
        await watch.until(lambda: tab.messages[-1].role == "assistant" and tab.live is None)


async def test_a_question_open_when_the_app_quits_is_asked_again_after_a_restart(
    tmp_path: Path, start_backend: BackendFactory
) -> None:
    backend = await start_backend()
    first = make_app(tmp_path, backend.url)
    async with first.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await type_and_send(pilot, "/approve")
        await asked(pilot, "Run ls -la")
    again = make_app(tmp_path, backend.url)
    async with again.run_test(size=(80, 24)) as pilot:
        watch = await started(pilot)
        await asked(pilot, "Run ls -la")
        await pilot.press("y")
        assert again.workspace is not None
        tab = again.workspace.selected
        await watch.until(
            lambda: tab.live is None and tab.messages[-1].status == "complete", limit=30
        )
        answers = tab.messages[-1].activity.answers
        assert [(a.decision, a.by) for a in answers] == [("allow_once", "this device")]
