"""Slow clients and exhausted file descriptors do not lock the server up: connections that
trickle a request head are closed after the head timeout, /api/health keeps answering, and the
log stays a few lines long."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.timing import scaled
from tests.conftest import TOKEN, BackendFactory

SLOW_HEAD = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


async def trickle(port: int) -> bytes:
    """A slowloris connection: part of a head, then a byte now and then; what the server
    sent back before it closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(SLOW_HEAD)
    try:
        while not reader.at_eof():
            writer.write(b"a")
            await writer.drain()
            try:
                return await asyncio.wait_for(reader.read(), 0.1)
            except TimeoutError:
                continue
    except ConnectionError:
        return b""
    finally:
        writer.close()
    return b""


async def test_trickling_heads_are_cut_and_health_keeps_answering(
    start_backend: BackendFactory, caplog: pytest.LogCaptureFixture
) -> None:
    backend = await start_backend(head_timeout=0.5)
    caplog.set_level(logging.WARNING, logger="mock_backend.slow_clients")
    slow = [asyncio.create_task(trickle(backend.port)) for _ in range(300)]
    async with httpx.AsyncClient(base_url=backend.url) as http:
        while not all(task.done() for task in slow):
            assert (await http.get("/api/health")).status_code == 200
            await asyncio.wait(slow, timeout=0.2)
    async with asyncio.timeout(scaled(20)):
        answers = await asyncio.gather(*slow)
    assert all(b"200 OK" not in answer for answer in answers), "never answered as complete"
    lines = [r for r in caplog.records if "did not arrive" in r.getMessage()]
    assert 1 <= len(lines) <= 3, [r.getMessage() for r in lines]


async def test_a_complete_request_and_a_websocket_are_not_cut(
    start_backend: BackendFactory,
) -> None:
    from tests.functional.mock_backend.client import ask, open_chat

    backend = await start_backend(head_timeout=0.3, chunk_delay=0.1)
    async with httpx.AsyncClient(base_url=backend.url) as http:
        for _ in range(3):  # a keep-alive connection reused after the limit has passed
            assert (await http.get("/api/health")).status_code == 200
            await asyncio.sleep(0.4)
        body = b"x" * 50_000  # a body may take as long as it likes
        answer = await http.post(
            "/api/files/upload", headers={"X-API-Key": TOKEN}, files={"file": ("a", body)}
        )
        assert answer.status_code == 200
    client = await open_chat(backend)
    reply = await ask(client, "/long 300", "slow-socket")  # streams for longer than 0.3 s
    assert reply.ok
    await client.close()


def test_running_out_of_file_descriptors_is_survived_quietly(tmp_path: Path) -> None:
    limit = 64
    db = tmp_path / "sessions.db"

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "builderos",
            "mock",
            "--port",
            "0",
            "--head-timeout",
            "2",
            "--db",
            str(db),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BUILDEROS_TOKEN": TOKEN},
        preexec_fn=low_limit,
    )
    try:
        assert server.stdout is not None
        url = ""
        for line in server.stdout:
            if found := re.search(r"Listening on (http://\S+)", line):
                url = found.group(1)
                break
        asyncio.run(exhaust(url, limit))
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=scaled(20))
    lines = [line for line in err.splitlines() if "out of file descriptors" in line]
    assert 1 <= len(lines) <= 5, lines
    assert "Traceback" not in err


async def refused(reader: asyncio.StreamReader) -> bool:
    """The server closed this connection without a word (a refusal), within a second."""
    try:
        return await asyncio.wait_for(reader.read(), 1.0) == b""
    except (TimeoutError, ConnectionError):
        return False


async def exhaust(url: str, limit: int) -> None:
    port = int(url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=url) as kept:  # a connection open before the flood
        assert (await kept.get("/api/health")).status_code == 200
        idle = []
        for _ in range(limit + 40):  # more than the server can hold
            idle.append(await asyncio.open_connection("127.0.0.1", port))
        outcomes = await asyncio.gather(*(refused(reader) for reader, _ in idle))
        assert sum(outcomes) >= 30, "connections past the limit are refused at once, not left"
        health = await kept.get("/api/health")  # the open connection is still served
        assert health.status_code == 200
        async with asyncio.timeout(scaled(20)):  # the head timeout frees descriptors again
            while True:
                try:
                    async with httpx.AsyncClient(base_url=url, timeout=1) as fresh:
                        if (await fresh.get("/api/health")).status_code == 200:
                            break
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
        for _, writer in idle:
            writer.close()
