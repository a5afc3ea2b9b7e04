"""The import contracts (pyproject.toml [tool.importlinter]) hold, and each one breaks when the
import it forbids is added: a contract that cannot fail would guard nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.timing import scaled

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("builderos", "tui", "mock_backend", "harness", "localdata")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "300"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=scaled(120),
    )


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("tui/client/backoff.py", "import textual", "tui.client imports no Textual"),
        ("mock_backend/wire.py", "import tui.store", "imports nothing from tui or harness"),
        ("tui/app.py", "import mock_backend", "only through what the CLI injects"),
        ("tui/model/workspace.py", "import tui.widgets", "tui layers"),
        ("harness/scenario.py", "import harness.checklist", "No import cycles"),
        ("localdata/private.py", "import mock_backend", "the standard library's alone"),
        (
            "tui/widgets/conversation/entry.py",
            "import tui.widgets.conversation.log",
            "the scrolling log over its entries",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / module).open("a", encoding="utf-8") as source:
        source.write(f"\n{line}  # added by the test\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken_lines = [text for text in result.stdout.splitlines() if "BROKEN" in text]
    assert any(broken in text for text in broken_lines), result.stdout
