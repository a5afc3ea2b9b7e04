"""How long the `builderos` command takes before it does anything, side by side in one run.

Before (the baseline): `builderos --version` 0.50 s median; `builderos send "hello"` to a
local backend 0.70 s, against 0.14 s for a 12-line websockets client doing the same (×5.1).
Here each is run 7 times against the bundled mock (`builderos mock`, no chunk delay) and the
median printed, with Python's own start for scale.

    python benchmarks/cli_startup.py
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
BIN = Path(sys.executable).parent
MINIMAL = """
import asyncio, json, sys
from websockets.asyncio.client import connect
async def main():
    async with connect(sys.argv[1]) as ws:
        await ws.send(sys.argv[2]); await ws.recv(); await ws.recv()
        await ws.send(json.dumps({"content": "hello", "session_id": "bench-claude-min",
                                  "device_id": "bench", "chat_type": "jarvis"}))
        while json.loads(await ws.recv()).get("type") != "complete":
            pass
asyncio.run(main())
"""


def median(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        mock = subprocess.Popen(
            [
                BIN / "builderos",
                "mock",
                "--port",
                str(port),
                "--token",
                "t",
                "--chunk-delay",
                "0",
                "--db",
                f"{tmp}/mock.db",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            env_dir = ["--data-dir", tmp]
            python = median([sys.executable, "-c", "pass"])
            version = median([str(BIN / "builderos"), "--version"])
            helped = median([str(BIN / "builderos"), "--help"])
            send = median(
                [str(BIN / "builderos"), "send", "--url", url, "--token", "t", *env_dir, "hello"]
            )
            minimal = median(
                [sys.executable, "-c", MINIMAL, f"ws://127.0.0.1:{port}/api/claude/ws", "t"]
            )
        finally:
            mock.terminate()
            mock.wait()
    rows = [
        ("python -c pass", python, ""),
        ("builderos --version", version, f"before: 0.50 s; ratio {version / 0.50:.2f}"),
        ("builderos --help", helped, ""),
        ("builderos send hello", send, f"before: 0.70 s; ratio {send / 0.70:.2f}"),
        ("minimal websockets client", minimal, f"send ×{send / minimal:.1f} (before: ×5.1)"),
    ]
    for what, took, beside in rows:
        print(f"{what:<28}{took:.2f} s   {beside}")


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    main()
