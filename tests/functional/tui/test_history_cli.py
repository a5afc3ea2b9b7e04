"""`builderos search` and `builderos export` on a real history file."""

from __future__ import annotations

import asyncio
import json
import socket
import stat
from pathlib import Path

from typer.testing import CliRunner

from builderos.cli import app
from mock_backend import MockBackend
from tests.conftest import TOKEN
from tests.functional.mock_backend.client import open_chat
from tui.model.export import from_json
from tui.store import ChatStore, StoredMessage, TabRow

runner = CliRunner()


def history(tmp_path: Path) -> Path:
    store = ChatStore(tmp_path / "history.db")
    store.add_tab(TabRow("t1", 0, "claude", "Reviews", "DEV-claude-t1", ""), "2026", "demo")
    store.save(
        "DEV-claude-t1",
        StoredMessage("a", "user", "What is the code word?", "acknowledged", "2026-11-22T10:00:00"),
    )
    store.save(
        "DEV-claude-t1",
        StoredMessage(
            "a:reply", "assistant", "It is *pelican*.", "complete", "2026-11-22T10:00:01"
        ),
    )
    store.close()
    return tmp_path


def test_search_prints_where_each_match_is(tmp_path: Path) -> None:
    data = history(tmp_path)
    result = runner.invoke(app, ["search", "pelican", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "Reviews (tab open)" in result.output and "[pelican]" in result.output
    found = runner.invoke(app, ["search", "code wo", "--json", "--data-dir", str(data)])
    assert [hit["msg_id"] for hit in json.loads(found.output)] == ["a"]
    missing = runner.invoke(app, ["search", "albatross", "--data-dir", str(data)])
    assert missing.exit_code == 1 and "No message contains" in missing.output


def test_export_writes_a_private_file_that_reads_back(tmp_path: Path) -> None:
    data = history(tmp_path)
    out = tmp_path / "out.json"
    result = runner.invoke(
        app,
        [
            "export",
            "--session",
            "DEV-claude-t1",
            "--format",
            "json",
            "-o",
            str(out),
            "--data-dir",
            str(data),
        ],
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [m.text for m in from_json(out.read_text()).messages] == [
        "What is the code word?",
        "It is *pelican*.",
    ]
    markdown = runner.invoke(app, ["export", "--session", "DEV-claude-t1", "--data-dir", str(data)])
    assert markdown.output.startswith("# Reviews") and "## Jarvis" in markdown.output


def test_errors_are_one_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    data = history(tmp_path)
    unknown = runner.invoke(app, ["export", "--session", "nope", "--data-dir", str(data)])
    assert unknown.exit_code == 1 and "no session nope" in unknown.output
    empty = runner.invoke(app, ["search", "x", "--data-dir", str(tmp_path / "none")])
    assert empty.exit_code == 1 and "no history at" in empty.output
    assert "Traceback" not in unknown.output + empty.output


async def test_sessions_and_export_reach_the_backend(backend: MockBackend, tmp_path: Path) -> None:
    """A session made from another device is listed as such, beside this machine's own, and
    exports from the backend's history with the client's message ids."""
    client = await open_chat(backend)
    frame = {"content": "Remember pelican", "session_id": "OTHER-claude-t9", "device_id": "OTHER"}
    await client.send(json.dumps({**frame, "id": "x1"}))
    while json.loads(await client.recv()).get("type") != "complete":
        pass
    data = history(tmp_path)
    args = ["--url", backend.url, "--token", TOKEN, "--data-dir", str(data)]
    listed = await asyncio.to_thread(runner.invoke, app, ["sessions", "--json", *args])
    assert listed.exit_code == 0, listed.output
    rows = {row["session_id"]: row for row in json.loads(listed.output)}
    assert (rows["OTHER-claude-t9"]["where"], rows["OTHER-claude-t9"]["on_backend"]) == (
        "device OTHER",
        True,
    )
    assert (rows["DEV-claude-t1"]["where"], rows["DEV-claude-t1"]["on_backend"]) == (
        "open here",
        False,
    )
    out = tmp_path / "other.json"
    exported = await asyncio.to_thread(
        runner.invoke,
        app,
        ["export", "--session", "OTHER-claude-t9", "--format", "json", "-o", str(out), *args],
    )
    assert exported.exit_code == 0, exported.output
    conversation = from_json(out.read_text())
    assert conversation.source == backend.url
    assert [(m.msg_id, m.role) for m in conversation.messages] == [
        ("x1", "user"),
        ("x1:reply", "assistant"),
    ]
    local = await asyncio.to_thread(
        runner.invoke, app, ["export", "--session", "DEV-claude-t1", *args]
    )
    assert local.exit_code == 0 and "## Jarvis" in local.output, "not on the backend: local"


def test_an_unreachable_backend_still_lists_this_machine(tmp_path: Path) -> None:
    data = history(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    result = runner.invoke(
        app, ["sessions", "--url", dead, "--token", "t", "--data-dir", str(data)]
    )
    assert result.exit_code == 1
    assert "DEV-claude-t1" in result.output and "cannot reach" in result.output


async def test_a_new_machine_lists_and_exports_the_backends_sessions(
    backend: MockBackend, tmp_path: Path
) -> None:
    """No history here yet: exactly when a user needs the list, to find the session started on
    the phone. It lists the backend's, exports them, and says plainly when there is neither."""
    client = await open_chat(backend)
    frame = {"content": "From the phone", "session_id": "PHONE-claude-t1", "device_id": "PHONE"}
    await client.send(json.dumps({**frame, "id": "p1"}))
    while json.loads(await client.recv()).get("type") != "complete":
        pass
    empty = tmp_path / "new"
    args = ["--url", backend.url, "--token", TOKEN, "--data-dir", str(empty)]
    listed = await asyncio.to_thread(runner.invoke, app, ["sessions", *args])
    assert listed.exit_code == 0, listed.output
    assert "PHONE-claude-t1" in listed.output and "device PHONE" in listed.output
    exported = await asyncio.to_thread(
        runner.invoke, app, ["export", "--session", "PHONE-claude-t1", *args]
    )
    assert exported.exit_code == 0 and "From the phone" in exported.output, exported.output
    missing = await asyncio.to_thread(runner.invoke, app, ["export", "--session", "nope", *args])
    assert missing.exit_code == 1 and "no history yet" in missing.output
    nowhere = ["--data-dir", str(empty), "--config", str(tmp_path / "none.json")]
    neither = runner.invoke(app, ["sessions", *nowhere], env={"BUILDEROS_URL": ""})
    assert neither.exit_code == 1 and "no backend to ask" in neither.output, neither.output
    assert not empty.exists(), "asking created no history"
