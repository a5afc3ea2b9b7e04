"""Fixtures of the mock backend's functional tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where an agent's stand-in writes what reached it (stdin lines, signals)."""
    path = tmp_path / "fake.log"
    monkeypatch.setenv("FAKE_AGENT_LOG", str(path))
    return path
