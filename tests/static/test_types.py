"""Types are checked: the whole project with `python -m mypy` (configured in pyproject.toml),
the client core and the server's wire rules with --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.timing import scaled

ROOT = Path(__file__).resolve().parents[2]


MYPY_LIMIT = scaled(300)
"""A first run (a fresh clone: no .mypy_cache) checks every file; on a loaded machine that is
past the suite's per-test limit of a minute, so these tests have this one."""


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=MYPY_LIMIT,
    )


@pytest.mark.xdist_group("mypy")  # one worker: the two runs share .mypy_cache
@pytest.mark.timeout(MYPY_LIMIT)
def test_the_whole_project_type_checks() -> None:
    result = mypy()
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.xdist_group("mypy")
@pytest.mark.timeout(MYPY_LIMIT)
def test_the_client_core_and_the_wire_rules_pass_strict() -> None:
    result = mypy("--strict", "tui/client", "mock_backend/wire.py", "localdata")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_private_textual_api_is_used() -> None:
    """Textual moves fast and its private modules (`textual.widgets._markdown`) and handlers
    (`_on_key`) change without notice: the app uses the public API only."""
    offenders = []
    for package in ("tui", "harness", "benchmarks"):
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            textual = "from textual" in source
            for number, line in enumerate(source.splitlines(), 1):
                private_module = "from textual" in line and "._" in line
                private_handler = textual and line.lstrip().startswith("def _on_")
                if private_module or private_handler:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
