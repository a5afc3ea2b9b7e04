"""One session on every device, in the app (docs/protocol.md §5): a message the iOS app sends to
the session of an open tab appears there at once, marked with its device, then its reply; two
apps (two data dirs, two devices) on one session see each other's turns once each; who else is
there, a stop and a close from another device."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from textual.widgets import Static
from websockets.asyncio.client import ClientConnection, connect

from harness.timing import scaled
from mock_backend import MockBackend
from tests.conftest import TOKEN, BackendFactory
from tests.functional.tui.apphelpers import drawn, make_app, started, type_and_send, view
from tests.functional.tui.test_agent_at_work import shown
from tui.app import ChatApp


async def phone(backend: MockBackend) -> ClientConnection:
    """The iOS app's socket: the token, its config frame, and no extension at all."""
    ws = await connect(backend.ws_url("claude"), max_size=None)
    await ws.send(TOKEN)
    assert await ws.recv() == "authenticated"
    assert json.loads(await ws.recv())["type"] == "ready"
    await ws.send(json.dumps({"working_directory": "/Users/me"}))
    return ws


async def ios_says(ws: ClientConnection, session_id: str, text: str) -> None:
    frame = {"content": text, "session_id": session_id, "device_id": "PHONE-1234"}
    await ws.send(json.dumps({**frame, "chat_type": "jarvis", "attachments": []}))


def status(app: ChatApp) -> str:
    return str(view(app).query_one("#status", Static).render())


async def test_a_message_from_the_phone_appears_live_with_its_reply(
    tmp_path: Path, start_backend: BackendFactory
) -> None:
    backend = await start_backend(chunk_delay=0.01)
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(100, 30)) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        ios = await phone(backend)
        await ios_says(ios, tab.session_id, "sent from the phone")
        await watch.until(lambda: any(m.text == "sent from the phone" for m in tab.messages))
        turn = next(m for m in tab.messages if m.text == "sent from the phone")
        assert turn.device == "PHONE" and turn.role == "user"
        await drawn(pilot, lambda: "You · on PHONE" in shown(app))
        await drawn(pilot, lambda: "also open on PHONE" in status(app))
        await watch.until(lambda: tab.live is None and tab.messages[-1].role == "assistant")
        assert tab.messages[-1].msg_id == f"{turn.msg_id}:reply"
        stored = app.setup.store.session_messages(tab.session_id)
        assert [(m.role, m.device) for m in stored] == [("user", "PHONE"), ("assistant", None)]
        await ios.close()
        await type_and_send(pilot, "and from here")
        await watch.until(lambda: tab.messages[-1].role == "assistant" and tab.live is None)
        assert [m.text for m in tab.messages if m.role == "user"] == [
            "sent from the phone",
            "and from here",
        ], "each turn once"


async def test_two_apps_on_one_session_mirror_each_other(
    tmp_path: Path, start_backend: BackendFactory
) -> None:
    backend = await start_backend(chunk_delay=0.005)
    mac = make_app(tmp_path / "mac", backend.url, device="MAC")
    other = make_app(tmp_path / "laptop", backend.url, device="LAPTOP")
    async with mac.run_test(size=(100, 30)) as mac_pilot, other.run_test(size=(100, 30)) as pilot:
        watch = await started(mac_pilot)
        other_watch = await started(pilot)
        assert mac.workspace is not None and other.workspace is not None
        here = mac.workspace.selected
        there = other.workspace.open_session(here.session_id)
        await other_watch.until(lambda: any(d.device_id == "MAC" for d in there.devices))
        await watch.until(lambda: any(d.device_id == "LAPTOP" for d in here.devices))
        await type_and_send(mac_pilot, "first, from the mac")
        await other_watch.until(lambda: len(there.messages) == 2 and there.live is None, limit=20)
        named = mac.workspace.device_name or "MAC"  # (the host's name, as the other sees it)
        assert [(m.role, m.device) for m in there.messages] == [
            ("user", named),
            ("assistant", None),
        ]
        await type_and_send(pilot, "then from the laptop")
        await watch.until(lambda: len(here.messages) == 4 and here.live is None, limit=20)
        await other_watch.until(lambda: len(there.messages) == 4 and there.live is None)
        assert [m.msg_id for m in here.messages] == [m.msg_id for m in there.messages]
        laptop = other.workspace.device_name or "LAPTOP"
        assert [m.device for m in here.messages] == [None, None, laptop, None]
        assert [m.text for m in here.messages] == [m.text for m in there.messages]


async def test_a_stop_and_a_close_on_another_device_are_shown(
    tmp_path: Path, start_backend: BackendFactory
) -> None:
    backend = await start_backend(chunk_delay=0.01)
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(100, 30)) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        ios = await phone(backend)
        await ios_says(ios, tab.session_id, "/long 5000")
        await watch.until(lambda: tab.live is not None, settle=False)
        await pilot.press("escape")  # stop, here, the reply to the phone's message
        await watch.until(lambda: tab.live is None and tab.messages[-1].status == "stopped")
        assert json.loads(await ios.recv())["type"] in ("message", "error")
        async with httpx.AsyncClient(base_url=backend.url) as http:
            closed = await http.delete(
                f"/api/claude/session/{tab.session_id}/close",
                headers={"Authorization": TOKEN, "X-Device-Id": "PHONE-1234"},
            )
        assert closed.status_code == 200
        await drawn(pilot, lambda: "closed on PHONE" in status(app))
        assert any("closed on PHONE" in notice for notice in app.notices)
        await type_and_send(pilot, "carry on")
        await watch.until(lambda: tab.messages[-1].role == "assistant" and tab.live is None)
        assert tab.closed_by is None and "closed on" not in status(app)
        await ios.close()


async def test_without_sync_the_shown_tab_looks_for_other_devices_turns(
    tmp_path: Path, start_backend: BackendFactory
) -> None:
    backend = await start_backend(sync=False)
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(100, 30)) as pilot:
        watch = await started(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        await type_and_send(pilot, "from here first")
        await watch.until(lambda: tab.messages[-1].role == "assistant" and tab.live is None)
        await drawn(pilot, lambda: "other devices' turns: looked for every" in status(app))
        ios = await phone(backend)
        await ios_says(ios, tab.session_id, "sent from the phone, no sync")
        while json.loads(await ios.recv())["type"] != "complete":
            pass
        await watch.until(lambda: len(tab.messages) == 4, limit=scaled(20))
        assert [m.text for m in tab.messages][:3] == [
            "from here first",
            tab.messages[1].text,
            "sent from the phone, no sync",
        ]
        assert tab.messages[3].role == "assistant", "its reply too, each once"
        assert tab.messages[2].device == "PHONE", "marked with the device the history names"
        await ios.close()
