"""Headless figures for the chat screen (run: python benchmarks/chat_ui.py).

1. a 200 KB reply in 2,000 chunks fed as fast as possible: time until it is fully on screen,
   and the per-chunk cost over the first and last 10% (target: under 2 s, and flat);
2. time per screen update of a streaming reply under 0 and under 200 earlier messages on screen
   (target: the same within 2x);
3. a reply streaming into a background tab while another is visible: how far behind it is when
   shown (target: under 0.5 s);
4. starting with 5 tabs x 2,000 stored messages: time to the first usable screen (target: 1.5 s);
5. a reply streaming at the reference pace (100 characters / 50 ms) under 0 and under 10,000
   messages loaded in the conversation (all of them, not the window a tab opens with): CPU
   share of the process, and the memory the 10,000 take (target: the same CPU, flat).

Chunks enter through the workspace's connection-event path (what the socket reader calls), so
the figures are the app's cost, not the network's. The app points at a closed port.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import statistics
import tempfile
import time
from pathlib import Path

from textual.pilot import Pilot

from tui.app import ChatApp, ChatSetup
from tui.client import connection as conn
from tui.client import protocol as wire
from tui.client.backoff import Backoff
from tui.client.ids import new_id
from tui.model.workspace import ChatTab
from tui.store import ChatStore, StoredMessage
from tui.widgets.chat_view import Shown

SIZE = (120, 40)
LINE = "Streaming **Markdown** with `code`, lists and words to fill the reply with text. "


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _app(data_dir: Path, url: str | None = None) -> ChatApp:
    return ChatApp(
        ChatSetup(
            store=ChatStore(data_dir / "history.db"),
            device_id="BENCH",
            url=url or _dead_url(),
            token="t",
            backoff=lambda: Backoff(base=60, cap=60),
            freeze_startup_objects=True,  # as the CLI does
        )
    )


async def _ready(pilot: Pilot[None]) -> ChatApp:
    app = pilot.app
    assert isinstance(app, ChatApp)
    while app.workspace is None:
        await pilot.pause()
    await app.settled()
    return app


def _chunks(total_bytes: int, count: int) -> list[str]:
    text = ""
    paragraph = 0
    while len(text) < total_bytes:
        paragraph += 1
        text += f"\n\n## Section {paragraph}\n\n" if paragraph % 20 == 0 else ""
        text += LINE
        if paragraph % 7 == 0:
            text += "\n\n- a list item\n- another item\n\n"
    size = len(text) // count
    pieces = [text[i * size : (i + 1) * size] for i in range(count - 1)]
    return [*pieces, text[(count - 1) * size :]]


def _feed(app: ChatApp, tab: ChatTab, event: conn.ClientEvent) -> None:
    assert app.workspace is not None
    app.workspace.handle(tab.tab_id, event)


def _fill(store: ChatStore, session_id: str, count: int) -> None:
    for i in range(count):
        role = "user" if i % 2 == 0 else "assistant"
        text = f"Question {i}?" if role == "user" else f"**Answer {i}**\n\n- point one\n- point two"
        store.save(session_id, StoredMessage(new_id(), role, text, "complete", "2026-01-01"))


async def bench_big_reply(tmp: Path) -> None:
    chunks = _chunks(200_000, 2000)
    async with _app(tmp).run_test(size=SIZE) as pilot:
        app = await _ready(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        view = app.view(tab.tab_id)
        assert view is not None
        started = time.perf_counter()
        per_chunk = []
        for chunk in chunks:
            t = time.perf_counter()
            _feed(app, tab, wire.ReplyChunk("m", chunk))
            await asyncio.sleep(0)
            per_chunk.append(time.perf_counter() - t)
        _feed(app, tab, wire.ReplyDone("m", "", 1, 2, None))
        while (
            view.log.live is not None
            or not view.log.entries
            or any(entry.behind for entry in view.log.entries)  # parts drawn a budget a paint
        ):
            await pilot.pause()
        await pilot.pause()
        total = time.perf_counter() - started
        shown = tab.messages[-1].text
        assert len(shown) == sum(len(c) for c in chunks), "every chunk on screen, in order"
    tenth = len(chunks) // 10
    first, last = statistics.mean(per_chunk[:tenth]), statistics.mean(per_chunk[-tenth:])
    print("1. 200 KB reply in 2,000 chunks, fed as fast as possible")
    print(f"   fully on screen after {total:.2f} s (target < 2 s)")
    print(f"   per-chunk cost: first 10% {first * 1e3:.3f} ms, last 10% {last * 1e3:.3f} ms")


async def _update_cost(tmp: Path, earlier: int) -> float:
    store = ChatStore(tmp / "history.db")
    store.close()
    app = _app(tmp)
    async with app.run_test(size=SIZE) as pilot:
        app = await _ready(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        view = app.view(tab.tab_id)
        assert view is not None
        if earlier:
            _fill(app.workspace.store, tab.session_id, earlier)
            tab.messages = app.workspace.store.recent(tab.session_id, earlier)
            view.enqueue(Shown())
            await app.settled()
        assert len([e for e in view.log.entries if e.message]) == earlier
        timings = []
        for chunk in _chunks(30_000, 300):
            t = time.perf_counter()
            _feed(app, tab, wire.ReplyChunk("m", chunk))
            await pilot.pause()  # the update is on screen
            timings.append(time.perf_counter() - t)
        _feed(app, tab, wire.ReplyDone("m", "", 1, 2, None))
        await pilot.pause()
    return statistics.median(timings)


async def bench_update_cost(tmp: Path) -> None:
    empty = await _update_cost(tmp / "a", 0)
    full = await _update_cost(tmp / "b", 200)
    print("2. time per screen update of a streaming reply")
    print(f"   under   0 earlier messages: {empty * 1e3:.2f} ms (median)")
    print(f"   under 200 earlier messages: {full * 1e3:.2f} ms (median) — ratio {full / empty:.2f}")


async def bench_background(tmp: Path) -> None:
    chunks = _chunks(60_000, 600)
    async with _app(tmp).run_test(size=SIZE) as pilot:
        app = await _ready(pilot)
        assert app.workspace is not None
        app.action_new_tab("claude")
        await app.settled()
        hidden = app.workspace.selected
        app.action_goto_tab(1)
        await app.settled()
        for chunk in chunks:
            _feed(app, hidden, wire.ReplyChunk("m", chunk))
            await asyncio.sleep(0)
        await pilot.pause()
        view = app.view(hidden.tab_id)
        assert view is not None and not view.active
        painted = asyncio.Event()
        started = time.perf_counter()
        app.action_goto_tab(2)
        await app.settled()
        assert view.live_shown == len(hidden.live or ""), "the newest text is mounted"
        view.call_after_refresh(painted.set)
        await painted.wait()
        newest = time.perf_counter() - started
        await pilot.pause()
        while any(entry.behind for entry in view.log.entries):
            await pilot.pause()
        everything = time.perf_counter() - started
    print("3. reply streamed into a background tab (600 chunks, 60 KB), then shown")
    print(f"   newest text on screen {newest * 1e3:.0f} ms after being shown (target < 500 ms)")
    print(f"   the whole reply rendered (scrolling up) after {everything * 1e3:.0f} ms")


async def bench_startup(tmp: Path) -> None:
    store = ChatStore(tmp / "history.db")
    from tui.store import TabRow

    url = _dead_url()
    for position in range(5):
        tab_id = new_id()
        session = f"BENCH-claude-{tab_id}"
        row = TabRow(tab_id, position, "claude", f"Tab {position}", session, "")
        store.add_tab(row, "2026", url)
        _fill(store, session, 2000)
    store.close()
    started = time.perf_counter()
    async with _app(tmp, url).run_test(size=SIZE) as pilot:
        app = await _ready(pilot)
        ready = time.perf_counter() - started
        assert app.workspace is not None and len(app.workspace.tabs) == 5
        view = app.view(app.workspace.selected_id)
        assert view is not None and view.log.entries
    print("4. start with 5 tabs x 2,000 stored messages")
    print(f"   first usable screen after {ready:.2f} s (target < 1.5 s)")


async def _streaming_share(tmp: Path, loaded: int, seconds: float = 6.0) -> tuple[float, float]:
    """CPU share while a reply streams at the reference pace; and the MB the loaded messages
    took (peak RSS before and after loading them)."""
    async with _app(tmp).run_test(size=SIZE) as pilot:
        app = await _ready(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tab.messages = [
            StoredMessage(f"m{n}", "user" if n % 2 == 0 else "assistant", LINE * 3, "complete", "t")
            for n in range(loaded)
        ]
        view = app.view(tab.tab_id)
        assert view is not None
        view.enqueue(Shown())
        await app.settled()
        await pilot.pause()
        taken = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        chunks = _chunks(int(seconds * 2000), int(seconds * 20))
        cpu, started = time.process_time(), time.monotonic()
        for n, chunk in enumerate(chunks):
            _feed(app, tab, wire.ReplyChunk("m", chunk))
            await asyncio.sleep(max(0.0, started + (n + 1) * 0.05 - time.monotonic()))
        share = (time.process_time() - cpu) / (time.monotonic() - started)
    return share, taken


async def bench_long_conversation(tmp: Path) -> None:
    empty, _ = await _streaming_share(tmp / "a", 0)
    full, taken = await _streaming_share(tmp / "b", 10_000)
    print("5. a reply streaming at the reference pace, 0 / 10,000 messages loaded")
    print(f"   CPU {empty:.0%} / {full:.0%} of a core (ratio {full / empty:.2f}; flat)")
    print(f"   memory taken by the 10,000 messages: {taken:.0f} MB")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        await bench_big_reply(root / "1")
        await bench_update_cost(root / "2")
        await bench_background(root / "3")
        await bench_startup(root / "4")
        await bench_long_conversation(root / "5")


if __name__ == "__main__":
    asyncio.run(main())
