"""How long the `builderos` command takes before it does anything, side by side in one run.

The baseline: `builderos --version` 0.50 s median; `builderos send "hello"` to a local backend
0.70 s, against 0.14 s for a 12-line websockets client doing the same (×5.1). Here each is run
7 times against the bundled mock (`builderos mock`, no chunk delay) and the median printed,
with Python's own start for scale. The commands take turns (one run of each, seven times
over), so a busy machine slows them alike and the ratio holds.

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


def medians(commands: dict[str, list[str]]) -> dict[str, float]:
    """Each command's median time, the commands run in turn `RUNS` times over."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(taken) for name, taken in times.items()}


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
            builderos = str(BIN / "builderos")
            ws = f"ws://127.0.0.1:{port}/api/claude/ws"
            took = medians(
                {
                    "python": [sys.executable, "-c", "pass"],
                    "version": [builderos, "--version"],
                    "help": [builderos, "--help"],
                    "send": [builderos, "send", "--url", url, "--token", "t", *env_dir, "hello"],
                    "minimal": [sys.executable, "-c", MINIMAL, ws, "t"],
                }
            )
        finally:
            mock.terminate()
            mock.wait()
    python, version, helped = took["python"], took["version"], took["help"]
    send, minimal = took["send"], took["minimal"]
    rows = [
        ("python -c pass", python, ""),
        ("builderos --version", version, f"baseline: 0.50 s; ratio {version / 0.50:.2f}"),
        ("builderos --help", helped, ""),
        ("builderos send hello", send, f"baseline: 0.70 s; ratio {send / 0.70:.2f}"),
        ("minimal websockets client", minimal, f"send ×{send / minimal:.1f} (baseline: ×5.1)"),
    ]
    for what, seconds, beside in rows:
        print(f"{what:<28}{seconds:.2f} s   {beside}")


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    main()
