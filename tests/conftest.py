"""Fixtures shared by every test: a temporary data dir and the mock backend on an ephemeral port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mock_backend import MockBackend, MockConfig

TOKEN = "test-token-0123456789"


def free_port() -> int:
    """A loopback port nothing listens on (for 'backend down' and fixed-port restarts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BackendFactory = Callable[..., Awaitable[MockBackend]]


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
    """Start backends (default config, overridable per call); all are stopped at teardown."""
    started: list[MockBackend] = []

    async def start(**overrides: Any) -> MockBackend:
        backend = MockBackend(replace(mock_config, **overrides))
        await backend.start()
        started.append(backend)
        return backend

    yield start
    for backend in started:
        await backend.stop()


@pytest.fixture
async def backend(start_backend: BackendFactory) -> MockBackend:
    return await start_backend()
