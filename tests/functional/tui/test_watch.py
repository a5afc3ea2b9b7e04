"""`builderos watch` against the bundled mock over real sockets: what happens on the session
from now on, every device's turns once each, in order, as JSON lines; a refused token ends it
with the exit code of `send`."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

from harness.timing import scaled
from tests.conftest import TOKEN, BackendFactory
from tests.functional.tui.test_sync_app import ios_says, phone
from tui.commands.one_shot import REFUSED, send_once
from tui.commands.watch import Printer, follow

SESSION = "MAC-claude-watched"


class Recorder(Printer):
    """A printer that also keeps the records, and can be awaited until they say something."""

    def __init__(self) -> None:
        super().__init__("Jarvis", True, io.StringIO(), io.StringIO())
        self.records: list[dict[str, Any]] = []
        self._more = asyncio.Event()

    def show(self, record: dict[str, Any]) -> None:
        super().show(record)
        self.records.append(record)
        self._more.set()

    async def until(self, event: str, count: int = 1) -> None:
        """Until `count` records of this `event` were shown."""
        async with asyncio.timeout(scaled(15)):
            while sum(r["event"] == event for r in self.records) < count:
                self._more.clear()
                await self._more.wait()


async def test_watch_prints_every_devices_turns_from_now_on(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(chunk_delay=0.002)
    await send_once(  # the past: not shown
        base_url=backend.url, token=TOKEN, provider="claude", session_id=SESSION,
        device_id="MAC", text="before the watch", files=[],
    )  # fmt: skip
    printer, stop = Recorder(), asyncio.Event()
    watching = asyncio.create_task(
        follow(backend.url, TOKEN, "claude", SESSION, "WATCHER", printer, stop)
    )
    await printer.until("presence")  # following now
    ios = await phone(backend)
    await ios_says(ios, SESSION, "from the phone")
    await printer.until("end")
    await send_once(
        base_url=backend.url, token=TOKEN, provider="claude", session_id=SESSION,
        device_id="MAC", text="from the mac", files=[],
    )  # fmt: skip
    await printer.until("end", 2)
    stop.set()
    assert await asyncio.wait_for(watching, scaled(10)) == 0
    turns = [r for r in printer.records if r["event"] == "turn"]
    assert [(t["text"], t["device_id"]) for t in turns] == [
        ("from the phone", "PHONE-1234"),
        ("from the mac", "MAC"),
    ], "each once, in order, nothing of the past"
    ends = [r for r in printer.records if r["event"] == "end"]
    assert [e["reply_to"] for e in ends] == [t["id"] for t in turns]
    assert isinstance(printer.out, io.StringIO)
    lines = printer.out.getvalue().splitlines()
    assert [json.loads(line)["event"] for line in lines] == [r["event"] for r in printer.records]
    await ios.close()


async def test_a_refused_token_ends_the_watch(start_backend: BackendFactory) -> None:
    backend = await start_backend()
    printer = Recorder()
    code = await asyncio.wait_for(
        follow(backend.url, "wrong", "claude", SESSION, "W", printer, asyncio.Event()), scaled(15)
    )
    assert code == REFUSED
