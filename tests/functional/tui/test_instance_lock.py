"""One app per data dir: a second `builderos chat` on the same data dir says which process
has it and exits, instead of both writing the same history."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tui.system.instance_lock import AlreadyRunning, hold


def test_a_second_holder_is_refused_until_the_first_lets_go(tmp_path: Path) -> None:
    first = hold(tmp_path)
    with pytest.raises(AlreadyRunning, match=f"pid {os.getpid()}"):
        hold(tmp_path)
    assert stat.S_IMODE((tmp_path / "chat.lock").stat().st_mode) == 0o600
    first.close()
    hold(tmp_path).close()


def test_a_second_chat_on_the_same_data_dir_exits_with_one_line(tmp_path: Path) -> None:
    held = hold(tmp_path)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "builderos", "chat", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "BUILDEROS_URL": "", "BUILDEROS_TOKEN": ""},
            stdin=subprocess.DEVNULL,
        )
    finally:
        held.close()
    assert result.returncode == 1
    assert "another builderos chat" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "history.db").exists(), "the history was never opened"
