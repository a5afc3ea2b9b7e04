"""Fixtures and rules shared by every test.

- Markers come from the directory: `tests/unit` (pure: no sockets, no app, no subprocess),
  `tests/functional` (real sockets on ephemeral ports, the app through Textual's pilot),
  `tests/static` (lint, types, import contracts). `pytest -m unit` runs the fast ones.
- Every real-time limit is scaled by BUILDEROS_TIME_FACTOR (harness.timing), the per-test
  timeout included: a slow machine raises limits instead of failing.
- Ports: servers bind port 0 and report theirs. A test that needs "nothing listens here" holds a
  bound, non-listening socket (`refusing_socket`), so no one else can take the port meanwhile,
  and a backend can later serve on that very socket.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.timing import scaled
from mock_backend import MockBackend, MockConfig

TOKEN = "test-token-0123456789"
TEST_TIMEOUT = scaled(60)
MARKERS = ("unit", "functional", "static")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.parts
        for marker in MARKERS:
            if marker in parts:
                item.add_marker(getattr(pytest.mark, marker))
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))


BackendFactory = Callable[..., Awaitable[MockBackend]]


@pytest.fixture
def refusing_socket() -> Iterator[socket.socket]:
    """A loopback socket bound to a port of its own and not listening: a client connecting
    there is refused, and `start_backend(sock=it)` later serves on that very port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock
    if sock.fileno() != -1 and not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        sock.close()  # a backend serving on it closes it itself


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@pytest.fixture
def mock_config(tmp_path: Path) -> MockConfig:
    return MockConfig(
        port=0,
        token=TOKEN,
        db_path=tmp_path / "mock" / "sessions.db",
        chunk_delay=0,
        capsule=str(tmp_path),
    )


@pytest.fixture
async def start_backend(mock_config: MockConfig) -> AsyncIterator[BackendFactory]:
    """Start backends (default config, overridable per call; `sock=` serves on a bound
    socket); all are stopped at teardown."""
    started: list[MockBackend] = []

    async def start(sock: socket.socket | None = None, **overrides: Any) -> MockBackend:
        backend = MockBackend(replace(mock_config, **overrides), sock=sock)
        await backend.start()
        started.append(backend)
        return backend

    yield start
    for backend in started:
        await backend.stop()


@pytest.fixture
async def backend(start_backend: BackendFactory) -> MockBackend:
    return await start_backend()
