"""Messages lost or doubled while the backend is killed or restarted under the client.

    python benchmarks/delivery_under_restarts.py [--messages 65] [--restarts 10] [--every 1.0]

Before the delivery extension (the baseline): the backend killed (kill -9)
10 times while the client sent a message every second lost 23 of 65 messages (35%), every one
shown as sent; with SIGTERM, 28 of 68 (41%). This runs the same experiment against
`builderos mock` as a process (SIGTERM with a 3 s lingering shutdown, as the reference server
holds sockets) and counts, from the server's own database, each message stored 0, 1 or 2+ times.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path

from harness.mock_process import MockProcess
from tui.client.backoff import Backoff
from tui.model.workspace import Workspace
from tui.store import ChatStore

BASELINE = {"kill": (23, 65), "term": (28, 68)}


async def run(how: str, messages: int, restarts: int, every: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        args = ("--fault", "linger_after_sigterm=3") if how == "term" else ()
        mock = MockProcess(directory, *args)
        await mock.start()
        workspace = Workspace(
            ChatStore(directory / "history.db"),
            base_url=mock.url,
            token=mock.token,
            device_id="bench",
            backoff=lambda: Backoff(base=0.1, cap=1.0),
        )
        workspace.restore()
        workspace.start()
        tab = workspace.selected
        texts = [f"{how} message {i:03d}" for i in range(messages)]
        gap = max(messages // (restarts + 1), 1)
        started = time.perf_counter()
        for index, text in enumerate(texts):
            workspace.send(tab.tab_id, text)
            if index % gap == gap - 1 and mock.starts <= restarts:
                await (mock.kill() if how == "kill" else mock.terminate())
                await mock.start()
            await asyncio.sleep(every)  # the pace of a person typing: the thing measured
        changed = asyncio.Event()
        workspace.observe(lambda change: changed.set())

        def busy() -> bool:
            return (
                tab.live is not None
                or (tab.connection is not None and tab.connection.busy)
                or any(m.status in ("pending", "sent") for m in tab.messages)
            )

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(120):
                while busy():
                    changed.clear()
                    await changed.wait()
        seconds = time.perf_counter() - started
        await workspace.stop()
        stored = mock.user_turns()
        await mock.close()
    lost = sum(1 for t in texts if stored.get(t, 0) == 0)
    doubled = sum(1 for t in texts if stored.get(t, 0) > 1)
    base_lost, base_sent = BASELINE[how]
    print(
        f"{'kill -9' if how == 'kill' else 'SIGTERM'}: {mock.starts - 1} restarts, "
        f"{messages} messages in {seconds:.0f} s: lost {lost} ({lost / messages:.0%}), "
        f"doubled {doubled}; before: lost {base_lost} of {base_sent} "
        f"({base_lost / base_sent:.0%}); ratio {lost / messages / (base_lost / base_sent):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=65)
    parser.add_argument("--restarts", type=int, default=10)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between messages")
    args = parser.parse_args()
    for how in ("kill", "term"):
        asyncio.run(run(how, args.messages, args.restarts, args.every))


if __name__ == "__main__":
    main()
