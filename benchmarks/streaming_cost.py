"""What a streaming reply costs in a real terminal: CPU of the app process and keystroke-to-
screen latency, for `builderos chat` and for a stock Textual chat (benchmarks/stock_chat.py),
side by side in one run. Needs tmux.

    python benchmarks/streaming_cost.py [--keys 25] [--window 10] [--history 10000]

Each app runs in tmux at 120×40. A reply streams at the reference server's pace (100 characters
every 50 ms; for `builderos chat` from `builderos mock` in its own process). CPU is the app
process's user+system time over a window of the stream. Latency is `tmux send-keys` of one
character to the moment `tmux capture-pane` shows it. `builderos chat` is also measured with
five tabs streaming (one visible), with 10,000 earlier messages in the tab, and with the agent
at work: a reply of 200 tool calls and 50 plan updates (`/busy 200`, a frame every 50 ms, as the
text) beside the text-only reply, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.mock_process import free_port
from tui.client.ids import new_id, session_id
from tui.store import ChatStore, StoredMessage, TabRow

MARK = "§"
SESSION = "bench"
ASK = "/long 8000"
BUSY = "/busy 200"
WRITING = "A long answer"
"""What builderos chat shows once the long reply (not an echo of the trigger) streams."""
TICKS = os.sysconf("SC_CLK_TCK")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def pane() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def wait_for(text: str, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while text not in pane():
        if time.monotonic() > deadline:
            raise SystemExit(f"the app never showed {text!r}:\n{pane()}")
        time.sleep(0.05)  # polling a terminal: there is nothing to await


def app_pid() -> int:
    """The Python process running in the pane (the pane's own process may be a shell)."""
    pid = int(tmux("display", "-p", "-t", SESSION, "#{pane_pid}").strip())
    for _ in range(3):
        if Path(f"/proc/{pid}/comm").read_text().startswith("python"):
            return pid
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
        pid = int(children.stdout.split()[0])
    return pid


def clear_input() -> None:
    """Empty the input, and check: a mark left in it made the trigger an ordinary message,
    and the "streaming" figures were of an idle app."""
    for _ in range(20):
        tmux("send-keys", "-t", SESSION, "End")
        tmux("send-keys", "-t", SESSION, "C-u")
        deadline = time.monotonic() + 1
        while MARK in pane() and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a terminal: there is nothing to await
        if MARK not in pane():
            return
    raise SystemExit(f"could not empty the input:\n{pane()}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_share(pid: int, window: float) -> float:
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(window)
    return (cpu_seconds(pid) - before) / (time.monotonic() - started)


def latencies(keys: int) -> list[float]:
    """Milliseconds from send-keys to the character on screen, one key at a time."""
    found: list[float] = []
    for _ in range(keys):
        count = pane().count(MARK)
        started = time.perf_counter()
        tmux("send-keys", "-t", SESSION, MARK)
        deadline = started + 3
        while pane().count(MARK) <= count and time.perf_counter() < deadline:
            pass  # as fast as capture-pane can answer: the thing measured
        found.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    return found


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms"


def start(command: str) -> int:
    tmux("kill-session", "-t", SESSION)
    tmux("new", "-d", "-s", SESSION, "-x", "120", "-y", "40", command)
    return 0


@dataclass
class Run:
    cpu: float
    """Share of a core while a reply streams."""
    idle: list[float]
    streaming: list[float]
    rss: float


def measure(
    command: str, ready: str, trigger: str, keys: int, window: float, streaming_mark: str = ""
) -> Run:
    start(command)
    wait_for(ready)
    pid = app_pid()
    idle = latencies(keys)
    clear_input()
    tmux("send-keys", "-t", SESSION, trigger, "Enter")
    if streaming_mark:
        wait_for(streaming_mark)  # measured only once the reply is on screen
    time.sleep(1.0)  # the stream is under way
    share = cpu_share(pid, window)
    streaming = latencies(keys)
    result = Run(share, idle, streaming, rss_mb(pid))
    tmux("kill-session", "-t", SESSION)
    return result


def prefill(data: Path, url: str, messages: int) -> None:
    """A Claude tab with `messages` earlier messages, as a long-used install has."""
    store = ChatStore(data / "history.db")
    tab_id = new_id()
    sid = session_id("BENCH", "claude", tab_id)
    store.set_setting("device_id", "BENCH")
    store.add_tab(TabRow(tab_id, 0, "claude", "Claude", sid, ""), "2026", url)
    for n in range(messages):
        role = "user" if n % 2 == 0 else "assistant"
        text = f"message {n}: " + "some words about the project " * 4
        store.save(sid, StoredMessage(f"m{n}", role, text, "complete", "2026"))
    store.close()


async def reply_text(directory: Path) -> str:
    """The mock's answer to ASK, for the stock app to stream the same text."""
    from websockets.asyncio.client import connect

    from mock_backend.config import MockConfig
    from mock_backend.server import MockBackend
    from tui.client.protocol import ClientProtocol, ReplyDone

    async with MockBackend(
        MockConfig(port=0, token="t", db_path=directory / "fetch.db", chunk_delay=0)
    ) as backend:
        protocol = ClientProtocol("t")
        async with connect(backend.ws_url("claude"), max_size=None) as ws:
            await ws.send(protocol.start())
            while protocol.stage.value != "open":
                protocol.receive(await ws.recv())
            await ws.send(protocol.chat("m", ASK, session_id="x", device_id="x", provider="claude"))
            while True:
                for event in protocol.receive(await ws.recv()):
                    if isinstance(event, ReplyDone):
                        return event.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=25)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--history", type=int, default=10_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="builderos-bench-"))
    reply = root / "reply.md"
    reply.write_text(asyncio.run(reply_text(root)), encoding="utf-8")
    py = sys.executable
    stock = measure(
        f"{py} benchmarks/stock_chat.py {reply}", "Message", "go", args.keys, args.window
    )
    port, token = free_port(), "bench-token"
    mock = subprocess.Popen(
        [
            py,
            "-m",
            "mock_backend",
            "--port",
            str(port),
            "--db",
            str(root / "mock.db"),
            "--chunk-delay",
            "0.05",
            "--log-level",
            "error",
        ],
        env={**os.environ, "BUILDEROS_TOKEN": token},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        chat = f"BUILDEROS_TOKEN={token} {py} -m builderos chat --url {url} --data-dir"
        ours = measure(
            f"{chat} {root / 'one'}", "Enter sends", ASK, args.keys, args.window, WRITING
        )
        prefill(root / "long", url, args.history)
        long = measure(
            f"{chat} {root / 'long'}", "Enter sends", ASK, args.keys, args.window, WRITING
        )
        five = measure_five(f"{chat} {root / 'five'}", args.window)
        busy = measure(
            f"{chat} {root / 'busy'}", "Enter sends", BUSY, args.keys, args.window, "Step 2"
        )
    finally:
        mock.terminate()
        mock.wait()
    report(stock, ours, long, five, args.keys, args.history)
    print(
        f"  CPU, the agent at work (200 tool calls, 50 plan updates): {busy.cpu:.0%}"
        f" ({busy.cpu / ours.cpu:.2f}× text; target ≤ 1×); keys streaming"
        f" {describe(busy.streaming)}; memory {busy.rss:.0f} MB"
    )


def report(stock: Run, ours: Run, long: Run, five: float, keys: int, history: int) -> None:
    print(f"one reply streaming at 100 characters / 50 ms, tmux 120×40, {keys} keys each")
    print(f"  CPU, builderos chat     {ours.cpu:.0%} of a core")
    print(
        f"  CPU, stock Textual chat {stock.cpu:.0%} of a core"
        f"   ratio {ours.cpu / stock.cpu:.2f} (target ≤ 0.20)"
    )
    print(
        f"  CPU, five tabs streaming (one shown): {five:.0%}"
        f" ({five / ours.cpu:.1f}× one; target ≤ 2×)"
    )
    print(f"  CPU, with {history:,} earlier messages: {long.cpu:.0%}")
    for name, run in (
        ("builderos chat", ours),
        ("stock Textual chat", stock),
        (f"builderos chat, {history:,} earlier", long),
    ):
        print(f"  keys, {name}: streaming {describe(run.streaming)}; idle {describe(run.idle)}")
    print(f"  memory: {ours.rss:.0f} MB; with {history:,} earlier messages {long.rss:.0f} MB")


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)  # the server is starting: nothing to await
    raise SystemExit("the mock did not start")


def measure_five(command: str, window: float) -> float:
    """CPU with a reply streaming in each of five tabs, the first one shown."""
    start(command)
    wait_for("Enter sends")
    pid = app_pid()
    for n in range(5):
        if n:
            tmux("send-keys", "-t", SESSION, "C-n")
            time.sleep(0.5)
        tmux("send-keys", "-t", SESSION, ASK, "Enter")
        time.sleep(0.2)
    tmux("send-keys", "-t", SESSION, "C-g", "1")
    deadline = time.monotonic() + 10
    while "Escape to stay" in pane():  # the dialog must be gone: a modal costs a repaint
        if time.monotonic() > deadline:
            raise SystemExit(f"the tab picker stayed open:\n{pane()}")
        time.sleep(0.05)
    time.sleep(1.0)
    share = cpu_share(pid, window)
    tmux("kill-session", "-t", SESSION)
    return share


if __name__ == "__main__":
    main()
