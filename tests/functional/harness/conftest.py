"""The harness's own target: the bundled mock, started and closed per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from harness.target import BundledMock


@pytest.fixture
async def bundled() -> AsyncIterator[BundledMock]:
    target = BundledMock()
    await target.ready(limit=0)
    yield target
    await target.close()
