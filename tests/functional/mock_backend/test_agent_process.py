"""The process helper both CLI adapters use: lines over the cap are skipped, not fatal; stderr's
end is kept; ending escalates from SIGINT to SIGKILL and always reaps the whole group, even when
a grandchild holds the pipes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from harness.timing import scaled
from mock_backend.agents.process import MAX_LINE_BYTES, AgentProcess, Oversized

LIMIT = scaled(20)


def live_members(pgid: int) -> list[int]:
    """Processes of group `pgid` that still run (a zombie left to init is not running)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def group_gone(pgid: int) -> list[int]:
    """Wait for each member of group `pgid` to exit, up to a limit; those still running.

    A killed grandchild is not ours to reap: it closes its pipes (which ends the helper's
    wait) a moment before it is dead, so its death is awaited here on a pidfd."""
    loop = asyncio.get_running_loop()
    for pid in live_members(pgid):
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        dead: asyncio.Future[None] = loop.create_future()
        loop.add_reader(pidfd, _settle, dead)
        try:
            async with asyncio.timeout(scaled(5)):
                await dead
        except TimeoutError:
            pass
        finally:
            loop.remove_reader(pidfd)
            os.close(pidfd)
    return live_members(pgid)


async def python(
    code: str, max_line_bytes: int = MAX_LINE_BYTES, grace: float = 3.0
) -> AgentProcess:
    return await AgentProcess.start(
        [sys.executable, "-c", code], label="test", max_line_bytes=max_line_bytes, grace=grace
    )


async def test_a_line_over_the_cap_is_skipped_and_the_rest_read() -> None:
    code = (
        "import sys\n"
        "sys.stdout.write('first\\n' + 'x' * 300000 + '\\nafter\\r\\nlast, no newline')\n"
    )
    proc = await python(code, max_line_bytes=100_000)
    async with asyncio.timeout(LIMIT):
        lines = [await proc.readline() for _ in range(5)]
        await proc.end()
    assert lines == ["first", Oversized(300_000), "after", "last, no newline", None]
    assert proc.oversized == 1


async def test_a_last_line_over_the_cap_without_newline_is_skipped() -> None:
    proc = await python("print('x' * 5000, end='')", max_line_bytes=1000)
    async with asyncio.timeout(LIMIT):
        assert await proc.readline() == Oversized(5000)
        assert await proc.readline() is None
        await proc.end()


async def test_the_end_of_stderr_is_kept_one_line() -> None:
    code = "import sys\nfor i in range(2000): sys.stderr.write(f'line {i}\\n')\nsys.exit(4)"
    proc = await python(code)
    async with asyncio.timeout(LIMIT):
        assert await proc.readline() is None
        assert await proc.end() == 4
    assert proc.stderr_tail() == "line 1995; line 1996; line 1997; line 1998; line 1999"


async def test_ending_escalates_to_sigterm_and_is_shared() -> None:
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = await python(code, grace=scaled(0.3))
    async with asyncio.timeout(LIMIT):
        assert await proc.readline() == "ready"
        codes = await asyncio.gather(proc.end(), proc.end())
    assert list(codes) == [-signal.SIGTERM, -signal.SIGTERM]
    assert proc.ending and await proc.readline() is None
    assert await group_gone(proc.pid) == []


async def test_a_grandchild_holding_the_pipes_does_not_hold_the_ending() -> None:
    code = (
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print('started', flush=True)\n"
    )
    proc = await python(code, grace=scaled(5))
    async with asyncio.timeout(scaled(4)):  # within one grace: no waiting for the pipes
        assert await proc.readline() == "started"
        assert await proc.wait_exit()
        assert await proc.end() == 0
    assert await group_gone(proc.pid) == []


async def test_a_child_that_does_not_read_stdin_does_not_block_a_write() -> None:
    proc = await python("import time; print('up', flush=True); time.sleep(600)", grace=scaled(0.3))
    async with asyncio.timeout(LIMIT):
        assert await proc.readline() == "up"
        for _ in range(1000):  # far more than a pipe holds
            assert proc.write_line_nowait("x" * 1000)
        await proc.end()
    assert not proc.write_line_nowait("late")
    assert not await proc.write_line("late")
    assert await group_gone(proc.pid) == []
