"""`builderos mock` as a user runs it: a real process, probed from outside like a black box."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from harness.timing import scaled
from mock_backend.wire import Agent
from tests.functional.mock_backend.client import Turn, ask, open_chat

TOKEN = "cli-token-Zq8w"


@contextmanager
def _mock(*args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """Run `builderos mock ARGS` until its banner says it listens; stop it with Ctrl-C."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "builderos", "mock", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BUILDEROS_TOKEN": ""},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    banner: list[str] = []
    for line in proc.stdout:
        banner.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            break
    try:
        yield proc, banner
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(scaled(10))


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=scaled(10))
    return proc.returncode, out, err


async def _chat(url: str, agent: Agent, session: str, text: str) -> Turn:
    client = await open_chat(url, agent, token=TOKEN)
    try:
        return await ask(client, text, session, device_id="probe")
    finally:
        await client.close()


async def test_banner_probe_restart_and_clean_stop(tmp_path: Path) -> None:
    db = tmp_path / "probe.db"
    args = ("--token", TOKEN, "--db", str(db), "--chunk-delay", "0")
    with _mock("--port", "0", *args) as (proc, banner):
        text = "\n".join(banner)
        (url,) = re.findall(r"Listening on (http://127\.0\.0\.1:\d+)", text)
        port = int(url.rsplit(":", 1)[1])
        assert f"ws://127.0.0.1:{port}/api/claude/ws (Jarvis)" in text
        assert f"Session database: {db}" in text and "Active sessions: 0" in text
        assert TOKEN not in text, "a token given by the user is not echoed"
        first = await _chat(url, "claude", "probe-claude-1", "Remember the code word MANGO-5")
        assert first.count == 2
        code, out, err = _stop(proc)
        assert code == 0 and "Mock backend stopped." in out
        assert "Traceback" not in err

    with _mock("--port", str(port), *args) as (proc, banner):  # restarted on the port it chose
        assert "Active sessions: 1 (stored: 1)" in "\n".join(banner)
        again = await _chat(url, "claude", "probe-claude-1", "What was the code word?")
        assert "MANGO-5" in again.text and again.count == 4
        async with httpx.AsyncClient(base_url=url) as http:
            sessions = (await http.get("/api/sessions")).json()
        assert [s["session_id"] for s in sessions["sessions"]] == ["probe-claude-1"]
        _, _, err = _stop(proc)
    assert TOKEN not in err, "the token never appears in a log line"
    assert "MANGO-5" not in err, "message text is not logged at INFO"


def test_generated_token_is_printed_once(tmp_path: Path) -> None:
    with _mock("--port", "0", "--db", str(tmp_path / "s.db")) as (proc, banner):
        (line,) = [line for line in banner if line.startswith("API token:")]
        token = line.split()[2]
        assert len(token) >= 24
        _, out, err = _stop(proc)
        assert token not in out + err


def _failing_start(*args: str) -> str:
    """Run `builderos mock ARGS` expecting it to refuse to start; returns what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "builderos", "mock", "--token", "t", *args],
        capture_output=True,
        text=True,
        timeout=scaled(30),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = _failing_start("--port", str(port), "--db", str(tmp_path / "s.db"))
    assert f"cannot listen on 127.0.0.1:{port}" in out


def test_unreadable_claude_md_is_a_clear_error(tmp_path: Path) -> None:
    out = _failing_start(
        "--port", "0", "--db", str(tmp_path / "s.db"), "--claude-md", str(tmp_path / "nope.md")
    )
    assert "cannot read the CLAUDE.md file" in out


def test_unusable_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    out = _failing_start("--port", "0", "--db", str(tmp_path / "file" / "s.db"))
    assert "cannot open session database" in out


def test_a_bad_fault_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "builderos", "mock", "--port", "0", "--fault", "stall=soon"],
        capture_output=True,
        text=True,
        timeout=scaled(30),
    )
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    assert "--fault stall: 'soon' is not a valid value" in result.stdout
