"""The mock backend as a separate process, for what no in-process server can show: kill -9 and
SIGTERM with the reference server's slow shutdown. Same port and database across restarts; its
store is read straight from the SQLite file (read-only), as a user would with `sqlite3`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

import httpx

from harness.outcome import Failed
from harness.timing import scaled

START_LIMIT = scaled(20.0)
POLL_LIMIT = scaled(2.0)
"""Seconds one health poll may take, whole (httpx's own timeout restarts on every byte)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def healthy(http: httpx.AsyncClient, url: str) -> bool:
    """`/api/health` answers 200 within `POLL_LIMIT` (its status only: the body is not read)."""
    with contextlib.suppress(httpx.HTTPError, TimeoutError):
        async with (
            asyncio.timeout(POLL_LIMIT),
            http.stream("GET", url + "/api/health") as answer,
        ):
            return answer.status_code == 200
    return False


class MockProcess:
    def __init__(self, directory: Path, *args: str, token: str = "resilience-token") -> None:
        """`args`: extra `builderos mock` options (`--fault …`, `--features none`, …)."""
        self.db = directory / "sessions.db"
        self.token = token
        self.port = free_port()
        self.args = list(args)
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start it and wait until it answers /api/health."""
        env = {**os.environ, "BUILDEROS_TOKEN": self.token}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "mock_backend",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            "--chunk-delay",
            "0.01",
            "--log-level",
            "error",
            *self.args,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self.starts += 1
        async with httpx.AsyncClient(timeout=POLL_LIMIT) as http:
            try:
                async with asyncio.timeout(START_LIMIT):
                    while True:
                        if self.process.returncode is not None:
                            raise Failed(f"the mock exited: {await self._stderr()}")
                        if await healthy(http, self.url):
                            return
                        await asyncio.sleep(0.05)  # polling a starting server: nothing to await
            except TimeoutError:
                raise Failed(f"the mock did not start within {START_LIMIT:.0f} s") from None

    async def _stderr(self) -> str:
        assert self.process is not None and self.process.stderr is not None
        return (await self.process.stderr.read()).decode(errors="replace")[-300:]

    async def kill(self) -> None:
        """kill -9: nothing is flushed, nothing is closed."""
        await self._end(signal.SIGKILL)

    async def terminate(self) -> None:
        """SIGTERM, then wait for it to exit (a lingering shutdown takes its time)."""
        await self._end(signal.SIGTERM)

    async def _end(self, how: signal.Signals) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(how)
        try:
            async with asyncio.timeout(scaled(60)):
                await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()

    async def close(self) -> None:
        await self.kill()

    def user_turns(self) -> dict[str, int]:
        """How many times each user message is stored, by text."""
        counts: dict[str, int] = {}
        for (text,) in self._read("SELECT content FROM messages WHERE role = 'user'"):
            counts[text] = counts.get(text, 0) + 1
        return counts

    def _read(self, sql: str) -> list[tuple[str]]:
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            return db.execute(sql).fetchall()
