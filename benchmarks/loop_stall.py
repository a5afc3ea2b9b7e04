"""How long other clients wait while the mock runs one turn on a huge history.

Before (the baseline): /api/health waited 1.48 s during one such turn.
Here: a session of 50 messages of 200 KB each (10 MB of history), one more message to it, and
/api/health polled every 10 ms meanwhile; prints the longest and the median wait.

    python benchmarks/loop_stall.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from mock_backend import MockBackend, MockConfig
from tui.client.protocol import ClientProtocol, ReplyDone, ReplyFailed

BASELINE = 1.48
"""Seconds /api/health waited during one such turn before (the baseline)."""


def serve(root: Path) -> tuple[MockBackend, asyncio.AbstractEventLoop]:
    """The mock on its own event loop in a thread: what is measured is its loop alone."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    backend = MockBackend(MockConfig(port=0, token="t", db_path=root / "s.db", chunk_delay=0))
    asyncio.run_coroutine_threadsafe(backend.start(), loop).result()

    async def seed() -> None:
        session = backend.registry.open("huge", "claude", "bench")
        for n in range(25):
            backend.registry.begin_turn(session, f"question {n} " + "q" * 200_000, None)
            backend.registry.append(session, "assistant", "a" * 200_000, {"status": "complete"})

    asyncio.run_coroutine_threadsafe(seed(), loop).result()
    return backend, loop


async def measure(backend: MockBackend) -> list[float]:
    waits: list[float] = []
    done = asyncio.Event()
    async with httpx.AsyncClient(base_url=backend.url) as http:
        await http.get("/api/health")  # the client's own set-up is not the server's stall

        async def poll() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await http.get("/api/health")
                waits.append(time.perf_counter() - started)
                await asyncio.sleep(0.01)

        poller = asyncio.create_task(poll())
        async with connect(backend.ws_url("claude"), max_size=None) as ws:
            protocol = ClientProtocol("t")
            await ws.send(protocol.start())
            while protocol.stage.value != "open":
                protocol.receive(await ws.recv())
            await asyncio.sleep(0.2)  # a few calm polls first
            await ws.send(
                protocol.chat(
                    "m", "and one more?", session_id="huge", device_id="bench", provider="claude"
                )
            )
            finished = False
            while not finished:
                for event in protocol.receive(await ws.recv()):
                    finished = finished or isinstance(event, ReplyDone | ReplyFailed)
        await asyncio.sleep(0.2)
        done.set()
        await poller
    return waits


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend, loop = serve(Path(tmp))
        waits = asyncio.run(measure(backend))
        asyncio.run_coroutine_threadsafe(backend.stop(), loop).result()
    worst = max(waits)
    median = statistics.median(waits)
    print("/api/health while one turn runs on a 10 MB history (50 messages of 200 KB)")
    print(
        f"   longest wait {worst * 1e3:.0f} ms, median {median * 1e3:.1f} ms ({len(waits)} polls)"
    )
    print(f"   baseline (before) {BASELINE * 1e3:.0f} ms — ratio {worst / BASELINE:.2f}")


if __name__ == "__main__":
    main()
