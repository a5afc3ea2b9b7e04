"""Checklist items beyond the seeds: one session on every device, live (docs/protocol.md Part 5),
through the real app. The other device is a socket played here: the iOS app's frames exactly
(the base contract), or a client of the delivery extension. They need a backend that
announces `sync`; against any other backend they are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from harness.checklist import BEYOND, app_run, fresh_app
from harness.driver import RESTART_WAIT, AppRun, data_dir
from harness.outcome import Skipped, check
from harness.resilience import app_and_mock, quiet, require_bundled
from harness.scenario import ScenarioList
from harness.target import Target
from mock_backend.faults import FaultPlan
from tui.client.frames import ws_url
from tui.model.workspace import ChatTab

SYNC = ScenarioList("checklist")
SECTION = f"{BEYOND}: docs/protocol.md Part 5"


async def needs_sync(target: Target) -> None:
    if not (await target.features()).get("sync"):
        raise Skipped("the backend does not announce sync (docs/protocol.md §5.1)")


@asynccontextmanager
async def other_device(
    url: str, token: str, tab: ChatTab, *, extension: bool, device: str = "CHECK-PHONE"
) -> AsyncIterator[ClientConnection]:
    """A socket of another device on the tab's session: the iOS app's (token, then its config
    frame, nothing more), or a delivery-extension client that said hello and resumed."""
    async with connect(ws_url(url, tab.provider), max_size=None) as ws:
        await ws.send(token)
        await ws.recv()  # authenticated
        await ws.recv()  # ready
        if extension:
            hello = {"type": "hello", "accept": ["sync"], "device_id": device}
            await ws.send(json.dumps({**hello, "device_name": device.lower()}))
            await ws.send(json.dumps({"type": "resume", "session_id": tab.session_id, "after": 0}))
        else:
            await ws.send(json.dumps({"working_directory": "/Users/check"}))
        yield ws


def chat_frame(tab: ChatTab, text: str, device: str, msg_id: str | None) -> str:
    """A chat frame as the iOS app sends it (with an id: as a delivery client does)."""
    frame: dict[str, Any] = {
        "content": text,
        "session_id": tab.session_id,
        "device_id": device,
        "chat_type": "jarvis" if tab.provider == "claude" else "codex",
        "attachments": [],
    }
    return json.dumps({**frame, "id": msg_id} if msg_id else frame)


async def arrives(run: AppRun, tab: ChatTab, text: str, device: str) -> None:
    """The other device's message shows in the tab, marked with the device, then its reply."""
    await run.until(
        lambda: any(m.text == text for m in tab.messages), f"“{text}” to appear in the tab"
    )
    turn = next(m for m in tab.messages if m.text == text)
    check(turn.device is not None, "the message is not marked with the device it came from")
    check(
        device.lower() in (turn.device or "").lower(),
        f"marked with {turn.device!r}, not {device}",
    )
    reply_id = f"{turn.msg_id}:reply"
    await run.until(
        lambda: any(m.msg_id == reply_id and m.status == "complete" for m in tab.messages),
        "its reply, whole",
    )
    count = sum(m.text == text for m in tab.messages)
    check(count == 1, f"the message shows {count} times")


@SYNC.add("sync-phone-message-live", SECTION)
async def phone_message_live(target: Target) -> None:
    """A message the iOS app sends to the tab's session appears in the tab at once.

    The other device speaks the base contract exactly (the token, a config frame, a chat frame
    without an id): the message appears marked with that device, then its reply streams in, and
    the phone itself gets its reply as the base contract says (chunks and complete, no number).
    """
    await needs_sync(target)
    async with fresh_app(target) as run:
        tab = run.tab()
        text = f"from the phone {secrets.token_hex(3)}"
        async with other_device(target.url, target.token, tab, extension=False) as phone:
            await phone.send(chat_frame(tab, text, "CHECK-PHONE", None))
            await arrives(run, tab, text, "CHECK")
            kinds = set()
            while "complete" not in kinds:
                frame = json.loads(await phone.recv())
                kinds.add(frame["type"])
                check("seq" not in frame, f"the phone got a numbered frame: {frame}")
            check(kinds <= {"message", "complete"}, f"the phone got {sorted(kinds)}")


@SYNC.add("sync-extension-message-live", SECTION)
async def extension_message_live(target: Target) -> None:
    """A message from a device of the delivery extension appears too, with its name.

    The other device says hello with its name and sends with an id: the tab shows the message
    marked with that name, then its reply; the status line says the device is there.
    """
    await needs_sync(target)
    async with fresh_app(target) as run:
        tab = run.tab()
        text = f"from the tablet {secrets.token_hex(3)}"
        async with other_device(
            target.url, target.token, tab, extension=True, device="CHECK-TABLET"
        ) as tablet:
            await run.until(
                lambda: any(d.device_id == "CHECK-TABLET" for d in tab.devices),
                "the tablet in the tab's presence",
            )
            await tablet.send(chat_frame(tab, text, "CHECK-TABLET", f"t-{secrets.token_hex(4)}"))
            await arrives(run, tab, text, "check-tablet")
        await run.until(lambda: not tab.devices, "the tablet to leave the presence")


@SYNC.add("sync-two-apps-mirror", SECTION)
async def two_apps_mirror(target: Target) -> str:
    """Two apps (two data dirs: two devices) on one session see each other's turns once each.

    The second opens the first's session (as `--session` does); each sends a message; both end
    with the same four messages in the same order, the other's marked with its device.
    """
    await needs_sync(target)
    async with (
        data_dir() as first_dir,
        data_dir() as second_dir,
        app_run(target, first_dir) as first,
    ):
        await first.connected()
        here = first.tab()
        async with AppRun(
            second_dir, target.url, target.token, open_session=here.session_id
        ) as second:
            await second.connected()
            await second.until(
                lambda: second.tab().session_id == here.session_id, "the session's tab"
            )
            there = second.tab()
            await second.connected()
            await first.until(lambda: bool(here.devices), "the second app in the presence")
            await first.ask("first, from one")
            await second.until(
                lambda: len(there.messages) >= 2 and there.live is None, "the first app's turn"
            )
            await second.ask("then, from the other")
            await first.until(
                lambda: len(here.messages) >= 4 and here.live is None, "the other's turn"
            )
            check(
                [m.msg_id for m in here.messages] == [m.msg_id for m in there.messages],
                "the two apps show different messages",
            )
            marks = [(m.device is None) for m in here.messages if m.role == "user"]
            check(marks == [True, False], f"who sent what, as the first shows it: {marks}")
    return "4 messages, the same on both"


@SYNC.add("sync-stop-from-another-device", SECTION)
async def stop_elsewhere(target: Target) -> None:
    """A stop from another device stops the reply here.

    The app asks for a long reply; another device sends `stop` naming the app's message (the
    turn frame told it the id): the reply ends as stopped in the app.
    """
    await needs_sync(target)
    features = await target.features()
    if not features.get("stop"):
        raise Skipped("the backend does not announce stop (docs/protocol.md §2.4)")
    async with fresh_app(target) as run:
        tab = run.tab()
        async with other_device(target.url, target.token, tab, extension=True) as phone:
            await run.send("/long 20000")
            turn = None
            while turn is None:
                frame = json.loads(await phone.recv())
                turn = frame if frame.get("type") == "turn" else None
            stop = {"type": "stop", "session_id": tab.session_id, "id": turn["reply_to"]}
            await phone.send(json.dumps(stop))
            await run.until(
                lambda: tab.live is None and tab.messages[-1].role == "assistant",
                "the reply to end",
            )
            status = tab.messages[-1].status
            check(status == "stopped", f"the reply ended {status}, not stopped")


@SYNC.add("sync-close-on-another-device", SECTION)
async def close_elsewhere(target: Target) -> None:
    """A close on another device is said here, and a message continues the session.

    Another device on the session closes it (the close endpoint, naming itself in
    `X-Device-Id`): the tab's status line says so; a message sent from the app continues it.
    """
    await needs_sync(target)
    async with fresh_app(target) as run:
        tab = run.tab()
        await run.ask("before the close")
        async with other_device(target.url, target.token, tab, extension=True) as phone:
            await run.until(lambda: bool(tab.devices), "the other device in the presence")
            async with httpx.AsyncClient(base_url=target.url, timeout=10) as http:
                closed = await http.delete(
                    f"/api/{tab.provider}/session/{tab.session_id}/close",
                    headers={"Authorization": target.token, "X-Device-Id": "CHECK-PHONE"},
                )
            check(closed.status_code == 200, f"the close answered {closed.status_code}")
            await run.until(lambda: tab.closed_by is not None, "the tab to say it was closed")
            status = str(run.view().query_one("#status").render())
            check("closed on" in status, f"the status line says: {status}")
            await phone.close()
        await run.ask("after the close")
        check(tab.closed_by is None, "the tab still says closed after continuing")


SYNC_RESILIENCE = ScenarioList("resilience")


@SYNC_RESILIENCE.add("sync-follower-drops", f"{SECTION}: nothing lost, nothing twice")
async def follower_drops(target: Target) -> str:
    """The app's socket drops while another device sends: after each resume the app has every
    turn of the other device and its reply once, in order, as the server has them.

    An in-process mock drops the app's socket three times mid-reply; meanwhile the iOS app
    (the base contract) sends three messages, one after another.
    """
    require_bundled(target)
    async with app_and_mock(chunk_delay=0.005) as (run, backend):
        await run.connected()
        tab = run.tab()
        assert tab.connection is not None
        connects = tab.connection.connects
        backend.faults.set(FaultPlan(drop_after_chunks=3, times=6))  # (a phone may take some)
        texts = [f"/long 600 ({n})" for n in range(3)]
        for text in texts:
            async with other_device(backend.url, backend.token, tab, extension=False) as phone:
                await phone.send(chat_frame(tab, text, "CHECK-PHONE", None))
                with contextlib.suppress(ConnectionClosed):
                    await phone.recv()  # its first frame: the message was taken (then it goes)
        await run.until(
            lambda: (
                sum(m.role == "assistant" and m.status == "complete" for m in tab.messages) == 3
            ),
            "the three replies, whole",
            RESTART_WAIT,
        )
        await run.until(quiet([tab]), "the tab to settle", RESTART_WAIT)
        server = backend.registry.store.all_messages(tab.session_id)
        for role in ("user", "assistant"):  # (a turn taken while a reply streams shows above it)
            shown = [m.text for m in tab.messages if m.role == role]
            kept = [m.content for m in server if m.role == role]
            differ = next(
                (n for n, (a, b) in enumerate(zip(shown, kept, strict=False)) if a != b), None
            )
            check(
                shown == kept,
                f"the app shows {len(shown)} {role} messages, the server has {len(kept)}"
                + (f"; #{differ} differs" if differ is not None else ""),
            )
        users = [m.msg_id for m in tab.messages if m.role == "user"]
        answered = [m.msg_id for m in tab.messages if m.role == "assistant"]
        check(answered == [f"{u}:reply" for u in users], "a reply is not its message's")
        drops = tab.connection.connects - connects
        check(drops >= 3, f"the app's socket dropped {drops} times, not 3")
    return f"3 turns from the phone through {drops} drops: each once, in order"
