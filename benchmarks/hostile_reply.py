"""A 10 MiB reply at full speed, and floods of odd frames, through a real socket into the app.

Before the limits of docs/safety.md (the baseline): a 10 MiB reply froze the UI for 99 s;
20,000 unknown frames froze it for 47 s, 20,000 error frames for 128 s (and stored 20,000
messages). Here a server in another process sends each of those as fast as it can, in
100-character chunks, to the app running headless at 120x40; printed: the time until the reply
is stored and on screen, the longest and the 95th-percentile stall of the app's event loop
meanwhile (a key waits at most that long), the process's peak memory, and the ratio to the
baseline.

    python benchmarks/hostile_reply.py [--mib 10] [--flood 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import socket
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp import WSMsgType, web
from textual.pilot import Pilot

from tui.app import ChatApp, ChatSetup
from tui.client.backoff import Backoff
from tui.store import ChatStore

SIZE = (120, 40)
BASELINES = {"reply": 99.0, "unknown": 47.0, "errors": 128.0}
"""Seconds the UI froze before those limits (the baseline)."""
LINE = "Streaming **Markdown** with `code`, lists and words to fill the reply with text. "


def _serve(port: int, mode: str, mib: int, flood: int) -> None:
    """The hostile server: answers each chat message with the mode's frames, at full speed."""

    async def socket_(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.receive()
        await ws.send_str("authenticated")
        await ws.send_json({"type": "ready", "content": "bench", "features": {}})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            if mode == "reply":
                text = (LINE * (mib * 2**20 // len(LINE) + 1))[: mib * 2**20]
                for start in range(0, len(text), 100):
                    await ws.send_str(
                        json.dumps({"type": "message", "content": text[start : start + 100]})
                    )
            else:
                kind = "telemetry" if mode == "unknown" else "error"
                for n in range(flood):
                    await ws.send_str(json.dumps({"type": kind, "content": f"odd {n}"}))
                await ws.send_str(json.dumps({"type": "message", "content": "the real answer"}))
            await ws.send_str(json.dumps({"type": "complete", "message_count": 2}))
        return ws

    app = web.Application()
    app.add_routes([web.get("/api/claude/ws", socket_)])
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _run(url: str, data: Path, expect: str) -> tuple[float, list[float]]:
    app = ChatApp(
        ChatSetup(
            store=ChatStore(data / "history.db"),
            device_id="BENCH",
            url=url,
            token="t",
            backoff=lambda: Backoff(base=0.1, cap=0.5),
            freeze_startup_objects=True,
        )
    )
    stalls: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await _connected(pilot)
        assert app.workspace is not None
        tab = app.workspace.selected
        view = app.view(tab.tab_id)
        assert view is not None
        done = asyncio.Event()

        async def tick() -> None:  # what a key would wait for: the loop's lateness
            loop = asyncio.get_running_loop()
            while not done.is_set():
                due = loop.time() + 0.02
                await asyncio.sleep(0.02)
                stalls.append(max(0.0, loop.time() - due))

        ticker = asyncio.create_task(tick())
        started = time.perf_counter()
        app.workspace.send(tab.tab_id, "go")
        while not (
            tab.live is None
            and any(m.role == "assistant" and expect in m.text[:200] for m in tab.messages)
            and view.log.live is None
        ):
            await pilot.pause(0.05)
        await pilot.pause()
        took = time.perf_counter() - started
        done.set()
        await ticker
    return took, stalls


async def _connected(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, ChatApp)
    while app.workspace is None or app.workspace.selected.state.phase.value != "connected":
        await pilot.pause(0.05)


def measure(mode: str, mib: int, flood: int) -> None:
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port, mode, mib, flood), daemon=True)
    server.start()
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        with tempfile.TemporaryDirectory() as tmp:
            expect = "Streaming" if mode == "reply" else "the real answer"
            took, stalls = asyncio.run(_run(f"http://127.0.0.1:{port}", Path(tmp), expect))
    finally:
        server.terminate()
        server.join()
    what = f"a {mib} MiB reply" if mode == "reply" else f"{flood:,} {mode} frames"
    p95 = statistics.quantiles(stalls, n=20)[-1] if len(stalls) > 20 else max(stalls, default=0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    baseline = BASELINES[mode]
    print(
        f"{what}: on screen and stored in {took:.1f} s (before: UI frozen {baseline:.0f} s; "
        f"ratio {took / baseline:.3f}); loop stall max {max(stalls, default=0) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms; peak RSS {peak:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=10)
    parser.add_argument("--flood", type=int, default=20_000)
    parser.add_argument("--only", choices=("reply", "unknown", "errors"))
    args = parser.parse_args()
    for mode in [args.only] if args.only else ["reply", "unknown", "errors"]:
        measure(mode, args.mib, args.flood)


if __name__ == "__main__":
    main()
