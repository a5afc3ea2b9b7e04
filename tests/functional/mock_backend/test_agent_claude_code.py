"""The Claude Code adapter against a fixture CLI (mock_backend/fake_agents/claude.py) that
plays the stream-json formats: each scenario maps to the events a turn shows, in order;
permission answers reach the CLI; a stopped turn interrupts and reaps the whole process group;
failures read as sentences a user can act on."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.timing import scaled
from mock_backend.agents.base import AgentTurn
from mock_backend.agents.claude_code import ClaudeCodeAgent
from mock_backend.agents.events import (
    AgentEvent,
    AgentSession,
    Diff,
    Kind,
    Location,
    PermissionAnswer,
    PermissionRequest,
    Plan,
    PlanEntry,
    Skipped,
    TextDelta,
    ToolCall,
    ToolStatus,
    Usage,
)
from tests.functional.mock_backend.agent_runs import (
    LIMIT,
    STAND_INS,
    collect,
    failure,
    logged,
    no_ask,
    started,
    until_working,
    working_pgid,
)
from tests.functional.mock_backend.test_agent_process import group_gone, live_members

FAKE = str(STAND_INS / "claude.py")
SESSION = "4fcaf1d8-2b1e-4c1e-9a51-3c0f2a7d9e10"
USAGE = Usage({"input_tokens": 12, "cache_read_input_tokens": 100, "output_tokens": 5}, 0.0123)


def turn_for(
    message: str, workdir: Path, attachments: tuple[Path, ...] = (), resume: str | None = None
) -> AgentTurn:
    return AgentTurn(
        session_id="dev1-claude-tab1",
        provider="claude",
        message=message,
        attachments=attachments,
        resume=resume,
        workdir=workdir,
    )


async def test_partial_text_is_streamed_once_then_usage(tmp_path: Path) -> None:
    agent = ClaudeCodeAgent(FAKE)
    events = await collect(agent, turn_for("hello scenario:success", tmp_path))
    assert events == [AgentSession(SESSION), TextDelta("Hello"), TextDelta(", world."), USAGE]
    assert agent.health()["running"] == 0


async def test_command_line_prompt_attachments_cwd_and_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDECODE", "1")
    upload = tmp_path / "uploads" / "report.pdf"
    turn = turn_for("read this scenario:echo", tmp_path, attachments=(upload,), resume="-sess-123")
    events = await collect(ClaudeCodeAgent(FAKE), turn)
    assert events[0] == AgentSession("-sess-123")
    assert isinstance(events[1], TextDelta)
    said = json.loads(events[1].text)
    assert said["argv"] == [
        "--output-format", "stream-json",
        "--input-format", "stream-json",
        "--verbose",
        "--include-partial-messages",
        "--permission-prompt-tool", "stdio",
        "--resume=-sess-123",
    ]  # fmt: skip
    assert said["resume"] == "-sess-123"
    assert said["cwd"] == str(tmp_path)
    assert said["prompt"] == f"read this scenario:echo\n\nAttached files:\n- {upload}"
    assert said["claudecode"] is None


async def test_tool_use_maps_to_tool_calls_plan_and_text(tmp_path: Path) -> None:
    app = str(tmp_path / "src" / "app.py")
    src = str(tmp_path / "src")

    def call(call_id: str, kind: Kind, title: str, **fields: Any) -> ToolCall:
        return ToolCall(call_id, kind, title, "pending", **fields)

    read = call(
        "toolu_read",
        "read",
        "Read src/app.py",
        locations=(Location(app, 10),),
        input=json.dumps({"file_path": app, "offset": 10, "limit": 20}),
    )
    edit = call(
        "toolu_edit",
        "edit",
        "Edit src/app.py",
        locations=(Location(app),),
        input=json.dumps({"file_path": app, "old_string": "return 1", "new_string": "return 2"}),
        diff=Diff(app, "return 1", "return 2"),
    )
    bash = call("toolu_bash", "execute", "Run pytest -q", input="pytest -q")
    fail = call("toolu_fail", "execute", "Run false", input="false")
    grep = call(
        "toolu_grep",
        "search",
        'Search "def main" in src',
        locations=(Location(src),),
        input=json.dumps({"pattern": "def main", "path": src}),
    )
    fetch = call(
        "toolu_fetch",
        "fetch",
        "Fetch https://example.com",
        input=json.dumps({"url": "https://example.com", "prompt": "summary"}),
    )
    task = call("toolu_task", "delegate", "Check the docs", input="Read docs/ and report")
    mcp = call("toolu_mcp", "other", "mcp__docs__search", input=json.dumps({"q": "flatten"}))

    def done(tool: ToolCall, output: str, status: ToolStatus = "completed") -> ToolCall:
        return replace(tool, status=status, output=output)

    events = await collect(ClaudeCodeAgent(FAKE), turn_for("fix it scenario:tools", tmp_path))
    assert events == [
        AgentSession(SESSION),
        ToolCall(
            "msg_01-thought-1",
            "think",
            "Thinking",
            "completed",
            output="Need to look at the file first.",
        ),
        TextDelta("Let me "),
        TextDelta("look."),
        read,
        done(read, "10\tdef main():\n11\t    return 1"),
        edit,
        done(edit, "The file has been updated."),
        bash,
        done(bash, "..\n2 passed in 0.01s"),
        fail,
        done(fail, "Exit code 1", "failed"),
        Plan((PlanEntry("Fix app.py", "completed"), PlanEntry("Run the tests", "in_progress"))),
        grep,
        done(grep, "src/app.py"),
        fetch,
        done(fetch, "An example page."),
        task,
        done(task, "The docs agree."),
        mcp,
        done(mcp, "3 hits"),
        TextDelta("\n\nFixed: app.py now returns 2."),
        USAGE,
    ]


async def test_tool_calls_say_how_long_they_took(tmp_path: Path) -> None:
    agent = ClaudeCodeAgent(FAKE)
    async with asyncio.timeout(LIMIT):
        events = [e async for e in agent.events(turn_for("scenario:tools", tmp_path), no_ask)]
    finished = [e for e in events if isinstance(e, ToolCall) and e.status != "pending"]
    assert finished
    assert all(e.duration_ms is not None for e in finished if e.kind != "think")


async def test_an_allowed_permission_reaches_the_cli_with_the_input(
    tmp_path: Path, log: Path
) -> None:
    asked: list[PermissionRequest] = []

    async def allow(request: PermissionRequest) -> PermissionAnswer:
        asked.append(request)
        return PermissionAnswer("allow_once", by="dev1")

    probe = str(tmp_path / "probe.txt")
    tool_input = {"file_path": probe, "content": "x"}
    events = await collect(ClaudeCodeAgent(FAKE), turn_for("scenario:permission", tmp_path), allow)
    write = ToolCall(
        "toolu_write",
        "edit",
        "Write probe.txt",
        "pending",
        locations=(Location(probe),),
        input=json.dumps(tool_input),
        diff=Diff(probe, "", "x"),
    )
    assert [r.tool_call for r in asked] == [write]
    said = f"permission: allow {json.dumps(tool_input, sort_keys=True)}"
    assert events == [
        AgentSession(SESSION),
        write,
        replace(write, status="running"),
        replace(write, status="completed", output=f"File created successfully at: {probe}"),
        TextDelta(said),
        USAGE,
    ]
    decided = json.dumps({"behavior": "allow", "updatedInput": tool_input}, sort_keys=True)
    assert f"decided {decided}" in logged(log)


async def test_a_denied_permission_reaches_the_cli_with_the_reason(
    tmp_path: Path, log: Path
) -> None:
    async def deny(request: PermissionRequest) -> PermissionAnswer:
        return PermissionAnswer("deny", by="dev1", reason="not in this repository")

    events = await collect(ClaudeCodeAgent(FAKE), turn_for("scenario:permission", tmp_path), deny)
    write = events[1]
    assert isinstance(write, ToolCall) and write.status == "pending"
    assert events[2:] == [
        replace(write, status="failed", output="not in this repository"),
        TextDelta("permission: deny (not in this repository)"),
        USAGE,
    ]
    decided = json.dumps({"behavior": "deny", "message": "not in this repository"}, sort_keys=True)
    assert f"decided {decided}" in logged(log)


async def test_allowing_for_the_session_adds_a_rule(tmp_path: Path, log: Path) -> None:
    async def allow(request: PermissionRequest) -> PermissionAnswer:
        return PermissionAnswer("allow_session", by="dev1")

    await collect(ClaudeCodeAgent(FAKE), turn_for("scenario:permission", tmp_path), allow)
    decided = [json.loads(line[8:]) for line in logged(log) if line.startswith("decided ")]
    assert decided[0]["updatedPermissions"] == [
        {
            "type": "addRules",
            "rules": [{"toolName": "Write"}],
            "behavior": "allow",
            "destination": "session",
        }
    ]


async def test_no_answer_in_time_is_a_denial(tmp_path: Path, log: Path) -> None:
    async def timeout(request: PermissionRequest) -> PermissionAnswer:
        return PermissionAnswer("deny", by="timeout")

    events = await collect(
        ClaudeCodeAgent(FAKE), turn_for("scenario:permission", tmp_path), timeout
    )
    assert TextDelta("permission: deny (No one answered the permission request in time)") in events


@pytest.mark.parametrize(
    ("policy", "said"),
    [
        ("allow", "permission: allow"),
        ("deny", "permission: deny (The server's permission policy denies every tool)"),
    ],
)
async def test_a_policy_answers_without_asking(tmp_path: Path, policy: str, said: str) -> None:
    agent = ClaudeCodeAgent(FAKE, permission=policy)
    events = await collect(agent, turn_for("scenario:permission", tmp_path))
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(texts) == 1 and texts[0].startswith(said)


async def test_a_request_before_its_tool_use_shows_the_call_first(tmp_path: Path) -> None:
    asked: list[PermissionRequest] = []

    async def allow(request: PermissionRequest) -> PermissionAnswer:
        asked.append(request)
        return PermissionAnswer("allow_once", by="dev1")

    events = await collect(ClaudeCodeAgent(FAKE), turn_for("scenario:unannounced", tmp_path), allow)
    assert [e.status for e in events if isinstance(e, ToolCall)] == [
        "pending",
        "running",
        "completed",
    ]
    assert asked[0].tool_call == events[1]


async def test_a_control_request_it_does_not_serve_is_refused(tmp_path: Path, log: Path) -> None:
    events = await collect(ClaudeCodeAgent(FAKE), turn_for("scenario:hook", tmp_path))
    assert events == [
        AgentSession(SESSION),
        Skipped("a control request 'hook_callback'"),
        TextDelta("Still here."),
        USAGE,
    ]
    refused = json.dumps({"error": "hook_callback is not supported by this client"})
    assert f"hook {refused}" in logged(log)


async def test_an_error_result_fails_with_its_text(tmp_path: Path) -> None:
    agent = ClaudeCodeAgent(FAKE)
    said, events = await failure(agent, turn_for("scenario:error", tmp_path))
    assert said == "API Error: 529 Overloaded"
    assert events == [AgentSession(SESSION)]
    assert agent.health()["failed"] == 1
    said, _ = await failure(agent, turn_for("scenario:max_turns", tmp_path))
    assert said == "Reached maximum number of turns (4)"


async def test_an_unknown_event_is_skipped_and_counted(tmp_path: Path) -> None:
    agent = ClaudeCodeAgent(FAKE)
    events = await collect(agent, turn_for("scenario:unknown", tmp_path))
    assert events == [
        AgentSession(SESSION),
        Skipped("an event of unknown type 'brand_new_event'"),
        TextDelta("Still here."),
        USAGE,
    ]
    assert agent.health()["skipped"] == 1


async def test_garbage_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    agent = ClaudeCodeAgent(FAKE)
    events = await collect(agent, turn_for("scenario:garbage", tmp_path))
    skipped = [e for e in events if isinstance(e, Skipped)]
    assert [type(e) for e in events] == [AgentSession, Skipped, Skipped, Skipped, TextDelta, Usage]
    assert "not JSON: [SandboxDebug] sandbox ready" in skipped[0].what
    assert "not JSON" in skipped[1].what
    assert "not a JSON object" in skipped[2].what
    assert events[-2:] == [TextDelta("Still here."), USAGE]
    assert agent.health()["skipped"] == 3


async def test_a_line_over_the_cap_is_skipped_not_fatal(tmp_path: Path) -> None:
    agent = ClaudeCodeAgent(FAKE, max_line_bytes=64 * 1024)
    events = await collect(agent, turn_for("scenario:huge", tmp_path))
    assert len(events) == 4
    assert isinstance(events[1], Skipped) and "bytes (over 65536)" in events[1].what
    assert events[2:] == [TextDelta("After the long line."), USAGE]
    assert agent.health()["oversized"] == 1


async def test_a_crash_gives_the_status_and_the_end_of_stderr(tmp_path: Path) -> None:
    said, events = await failure(ClaudeCodeAgent(FAKE), turn_for("scenario:crash", tmp_path))
    assert said == (
        "claude exited with status 3 before finishing its answer: "
        "starting; fatal: the model connection broke"
    )
    assert events == [AgentSession(SESSION), TextDelta("Working on it")]


@pytest.mark.parametrize("scenario", ["not_logged_in", "not_logged_in_stderr"])
async def test_not_logged_in_says_how_to_log_in(tmp_path: Path, scenario: str) -> None:
    said, events = await failure(ClaudeCodeAgent(FAKE), turn_for(f"scenario:{scenario}", tmp_path))
    assert said == "claude is not logged in: run `claude` once on this machine"
    assert not any(isinstance(e, TextDelta) for e in events)


@pytest.mark.parametrize("command", ["/nonexistent/claude", "no-such-claude-cli-here"])
async def test_a_missing_executable_says_how_to_install(tmp_path: Path, command: str) -> None:
    agent = ClaudeCodeAgent(command)
    said, _ = await failure(agent, turn_for("hello", tmp_path))
    assert (
        said
        == "claude is not installed or not on PATH: install Claude Code, or pass --agent-command"
    )
    assert agent.health()["ready"] is False


async def test_closing_the_iteration_interrupts_and_reaps_the_group(
    tmp_path: Path, log: Path
) -> None:
    agent = ClaudeCodeAgent(FAKE)
    events = started(agent, turn_for("scenario:slow", tmp_path))
    pgid = await until_working(events)
    assert live_members(pgid)
    async with asyncio.timeout(LIMIT):
        await events.aclose()
    assert await group_gone(pgid) == []
    lines = logged(log)
    assert any('"subtype": "interrupt"' in line for line in lines)
    assert lines[-1] == "eof"  # it was told, then its stdin closed: it ended by itself
    assert agent.health()["running"] == 0


async def test_cancelling_the_turn_interrupts_and_reaps_the_group(
    tmp_path: Path, log: Path
) -> None:
    agent = ClaudeCodeAgent(FAKE)
    seen: asyncio.Queue[int] = asyncio.Queue()

    async def consume() -> None:
        async for event in agent.events(turn_for("scenario:slow", tmp_path), no_ask):
            if (pgid := working_pgid(event)) is not None:
                seen.put_nowait(pgid)

    task = asyncio.create_task(consume())
    async with asyncio.timeout(LIMIT):
        pgid = await seen.get()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await group_gone(pgid) == []
    assert any('"subtype": "interrupt"' in line for line in logged(log))


async def test_a_process_that_ignores_signals_is_killed_with_its_children(
    tmp_path: Path, log: Path
) -> None:
    agent = ClaudeCodeAgent(FAKE, grace=scaled(0.3))
    events = started(agent, turn_for("scenario:stubborn", tmp_path))
    pgid = await until_working(events)
    assert len(live_members(pgid)) == 2  # the fixture and its child
    async with asyncio.timeout(LIMIT):
        await events.aclose()
    assert await group_gone(pgid) == []
    assert {"ignored SIGINT", "ignored SIGTERM"} <= set(logged(log))


async def test_closing_the_session_ends_its_turn_quietly(tmp_path: Path) -> None:
    agent = ClaudeCodeAgent(FAKE)
    turn = turn_for("scenario:slow", tmp_path)
    seen: asyncio.Queue[int] = asyncio.Queue()
    events: list[AgentEvent] = []

    async def consume() -> None:
        async for event in agent.events(turn, no_ask):
            events.append(event)
            if (pgid := working_pgid(event)) is not None:
                seen.put_nowait(pgid)

    task = asyncio.create_task(consume())
    async with asyncio.timeout(LIMIT):
        pgid = await seen.get()
        assert agent.health()["running"] == 1
        await agent.close(turn.session_id)
        await task  # ends without an error: the session is gone, not the agent broken
    assert await group_gone(pgid) == []
    assert agent.health()["running"] == 0


async def test_shutdown_ends_every_turn(tmp_path: Path) -> None:
    agent = ClaudeCodeAgent(FAKE)
    events = started(agent, turn_for("scenario:slow", tmp_path))
    pgid = await until_working(events)
    async with asyncio.timeout(LIMIT):
        await agent.shutdown()
        assert [e async for e in events] == []
    assert await group_gone(pgid) == []


def test_health_names_the_command_and_the_policy() -> None:
    health = ClaudeCodeAgent(FAKE, permission="deny").health()
    assert health == {
        "ready": True,
        "mode": "claude-code",
        "command": FAKE,
        "running": 0,
        "turns": 0,
        "failed": 0,
        "skipped": 0,
        "oversized": 0,
        "permission": "deny",
    }
    with pytest.raises(ValueError):
        ClaudeCodeAgent(FAKE, permission="maybe")
