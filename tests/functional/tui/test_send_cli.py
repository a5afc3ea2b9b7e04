"""`builderos send` as a script runs it: a real process against the mock backend on an ephemeral
port; the reply on stdout, the session on stderr, and an exit code for each way it can end."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from mock_backend import MockBackend, fake_agents
from tests.conftest import TOKEN, BackendFactory, url_of
from tui.client.history import fetch_history
from tui.commands.one_shot import FAILED, NOT_ATTACHED, REFUSED, UNREACHABLE


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def session(self) -> str:
        line = next(line for line in self.err.splitlines() if line.startswith("session: "))
        return line.split()[1]


async def send(
    data_dir: Path, url: str, *args: str, token: str = TOKEN, stdin: str | None = None
) -> Ran:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUILDEROS_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "builderos",
        "send",
        "--url",
        url,
        "--token",
        token,
        "--data-dir",
        str(data_dir),
        "--config",
        str(data_dir / "none.json"),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await process.communicate(stdin.encode() if stdin else None)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def test_a_reply_streams_to_stdout_and_the_session_can_be_continued(
    backend: MockBackend, tmp_path: Path
) -> None:
    first = await send(tmp_path, backend.url, "The code word is amber-12.")
    assert first.code == 0, first.err
    assert 'You said: "The code word is amber-12."' in first.out
    assert first.session.split("-claude-")[0], "its own session, named on stderr"
    again = await send(
        tmp_path, backend.url, "--session", first.session, "-", stdin="What was the code word?\n"
    )
    assert again.code == 0, again.err
    assert "amber-12" in again.out
    assert "session: " not in again.err, "a session given is not announced"


async def test_json_with_files_says_everything_in_one_object(
    backend: MockBackend, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping list\nmilk\n", encoding="utf-8")
    ran = await send(
        tmp_path, backend.url, "--provider", "codex", "--attach", str(notes), "--json", "Read this."
    )
    assert ran.code == 0, ran.err
    result = json.loads(ran.out)
    assert result["ok"] is True and result["message_count"] == 2
    assert "-codex-" in result["session_id"]
    assert [a["filename"] for a in result["attachments"]] == ["notes.txt"]
    assert "Shopping list" in result["reply"]
    history = await fetch_history(backend.url, TOKEN, result["session_id"])
    assert history is not None
    assert history[0].metadata["attachments"] == result["attachments"], "stored with the turn"


async def test_each_failure_has_its_exit_code_and_a_one_line_reason(
    backend: MockBackend, tmp_path: Path, refusing_socket: socket.socket
) -> None:
    refused = await send(tmp_path, backend.url, "hi", token="wrong")
    assert refused.code == REFUSED and "token refused" in refused.err and "--token" in refused.err
    nobody = await send(tmp_path, url_of(refusing_socket), "hi")
    assert nobody.code == UNREACHABLE and "cannot reach" in nobody.err
    failed = await send(tmp_path, backend.url, "--json", "/fail the relay is down")
    assert failed.code == FAILED
    assert json.loads(failed.out)["error"].startswith("BridgeHub failed: the relay is down")
    missing = await send(tmp_path, backend.url, "--attach", str(tmp_path / "gone.txt"), "hi")
    assert missing.code == NOT_ATTACHED and "gone.txt is not a file" in missing.err
    empty = await send(tmp_path, backend.url, "   ")
    assert empty.code == 1 and "empty" in empty.err
    for ran in (refused, nobody, failed, missing, empty):
        assert "Traceback" not in ran.err


async def test_the_agents_work_goes_to_stderr_and_json_and_its_questions_are_answered(
    backend: MockBackend, tmp_path: Path
) -> None:
    allowed = await send(tmp_path, backend.url, "--approve", "always", "--json", "/tools")
    assert allowed.code == 0, allowed.err
    result = json.loads(allowed.out)
    kinds = {item["kind"] for item in result["activity"]}
    assert kinds == {
        "read", "search", "edit", "execute", "think", "fetch", "delegate", "move", "delete",
        "other",
    }  # fmt: skip
    assert {item["status"] for item in result["activity"]} == {"completed"}
    assert result["plan"][-1]["status"] == "completed"
    assert "allowed (--approve always): ✎ Edit app/parser.py" in allowed.err
    assert "$ Run pytest -q  ✓" in allowed.err, "each call on stderr as it ends"
    denied = await send(tmp_path, backend.url, "--approve", "never", "fix the bug in app/parser.py")
    assert denied.code == 0, denied.err
    assert "denied (--approve never): ✎ Edit app/parser.py" in denied.err
    assert "✎ Edit app/parser.py  ✗ failed" in denied.err
    assert "left `app/parser.py` as it was" in denied.out
    unasked = await send(tmp_path, backend.url, "fix the bug in app/parser.py")
    assert "denied (no terminal to ask on)" in unasked.err, "a script is never left waiting"


FIXTURES = Path(fake_agents.__file__).resolve().parent


async def test_real_agents_behind_the_mock_end_to_end_through_send_json(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    claude = await start_backend(
        agent="claude-code", agent_command=str(FIXTURES / "claude.py"), workdir=tmp_path
    )
    ran = await send(tmp_path, claude.url, "--json", "--approve", "always", "scenario:tools go")
    assert ran.code == 0, ran.err
    result = json.loads(ran.out)
    assert {"read", "edit", "execute"} <= {item["kind"] for item in result["activity"]}
    codex = await start_backend(
        agent="codex", agent_command=str(FIXTURES / "codex.py"), workdir=tmp_path
    )
    ran = await send(tmp_path, codex.url, "--provider", "codex", "--json", "scenario:tools go")
    assert ran.code == 0, ran.err
    result = json.loads(ran.out)
    assert "execute" in {item["kind"] for item in result["activity"]}
    failed = await send(tmp_path, codex.url, "--provider", "codex", "scenario:not_logged_in x")
    assert failed.code == FAILED and "codex is not logged in" in failed.err
