"""The Codex adapter against a fixture CLI (mock_backend/fake_agents/codex.py) that plays
`codex exec --json`: each scenario maps to the events a turn shows, in order; a stopped turn
is interrupted and its whole process group reaped; failures read as sentences a user can act
on."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from harness.timing import scaled
from mock_backend.agents.base import AgentTurn
from mock_backend.agents.codex import CodexAgent
from mock_backend.agents.events import (
    AgentSession,
    Diff,
    Location,
    Plan,
    PlanEntry,
    Skipped,
    TextDelta,
    ToolCall,
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

FAKE = str(STAND_INS / "codex.py")
THREAD = "0199a213-81c0-7800-8aa1-bbab2a035a53"
USAGE = Usage({"input_tokens": 24763, "cached_input_tokens": 24448, "output_tokens": 122})


def turn_for(
    message: str, workdir: Path, attachments: tuple[Path, ...] = (), resume: str | None = None
) -> AgentTurn:
    return AgentTurn(
        session_id="dev1-codex-tab1",
        provider="codex",
        message=message,
        attachments=attachments,
        resume=resume,
        workdir=workdir,
    )


async def test_a_turn_maps_to_session_thought_text_and_usage(tmp_path: Path) -> None:
    agent = CodexAgent(FAKE)
    events = await collect(agent, turn_for("hello scenario:success", tmp_path))
    assert events == [
        AgentSession(THREAD),
        ToolCall(
            "item_0", "think", "Reading the prompt", "completed", output="**Reading the prompt**"
        ),
        TextDelta("Hello from Codex."),
        USAGE,
    ]
    assert agent.health()["running"] == 0


async def test_command_line_prompt_attachments_cwd_and_resume(tmp_path: Path) -> None:
    upload = tmp_path / "uploads" / "shot.png"
    turn = turn_for("-look at this scenario:echo", tmp_path, attachments=(upload,), resume="T-9")
    events = await collect(CodexAgent(FAKE), turn)
    assert events[0] == AgentSession("T-9")
    assert isinstance(events[1], TextDelta)
    said = json.loads(events[1].text)
    prompt = f"-look at this scenario:echo\n\nAttached files:\n- {upload}"
    assert said["argv"] == [
        "exec", "--json", "--sandbox", "workspace-write", "resume", "T-9", "--", prompt
    ]  # fmt: skip
    assert said["resume"] == "T-9"
    assert said["prompt"] == prompt
    assert said["cwd"] == str(tmp_path)


async def test_items_map_to_tool_calls_plan_and_text(tmp_path: Path) -> None:
    app = str(tmp_path / "src" / "app.py")
    new = str(tmp_path / "src" / "new.py")
    ls = ToolCall("item_1", "execute", "Run ls", "running", input="bash -lc ls")
    pytest_run = ToolCall(
        "item_2", "execute", "Run pytest -q", "running", input="/bin/bash -lc 'pytest -q'"
    )
    patch = ToolCall(
        "item_3",
        "edit",
        "Edit src/app.py",
        "running",
        locations=(Location(app),),
        output=f"update {app}",
        diff=Diff(app, "def main():\n    return 1", "def main():\n    return 2"),
    )
    mcp = ToolCall("item_5", "other", "docs.search", "running", input='{"q": "flatten"}')
    events = await collect(CodexAgent(FAKE), turn_for("fix scenario:tools", tmp_path))
    assert events == [
        AgentSession(THREAD),
        ls,
        replace(ls, output="README.md\n"),
        replace(ls, status="completed", output="README.md\nsrc\n"),
        pytest_run,
        replace(pytest_run, status="failed", output="F\n1 failed\n(exit code 1)"),
        patch,
        replace(patch, status="completed"),
        ToolCall(
            "item_4",
            "edit",
            "Edit src/new.py, src/app.py",
            "completed",
            locations=(Location(new), Location(app)),
            output=f"add {new}\nupdate {app}",
        ),
        mcp,
        replace(mcp, status="completed", output="3 hits"),
        ToolCall(
            "item_6",
            "fetch",
            'Search the web for "serde flatten"',
            "completed",
            input="serde flatten",
        ),
        Plan((PlanEntry("Reproduce the failure", "in_progress"), PlanEntry("Fix app.py"))),
        Plan(
            (
                PlanEntry("Reproduce the failure", "completed"),
                PlanEntry("Fix app.py", "in_progress"),
            )
        ),
        TextDelta("Fixed it."),
        Plan(
            (PlanEntry("Reproduce the failure", "completed"), PlanEntry("Fix app.py", "completed"))
        ),
        USAGE,
    ]


async def test_finished_items_say_how_long_they_took(tmp_path: Path) -> None:
    agent = CodexAgent(FAKE)
    async with asyncio.timeout(LIMIT):
        events = [e async for e in agent.events(turn_for("scenario:tools", tmp_path), no_ask)]
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert all((e.duration_ms is not None) == (e.status != "running") for e in calls)


async def test_a_failed_turn_fails_with_its_message(tmp_path: Path) -> None:
    agent = CodexAgent(FAKE)
    said, events = await failure(agent, turn_for("scenario:error", tmp_path))
    assert said == "stream disconnected before completion: Transport error"
    assert events == [AgentSession(THREAD)]
    assert agent.health()["failed"] == 1


async def test_unknown_events_and_items_are_skipped_and_counted(tmp_path: Path) -> None:
    agent = CodexAgent(FAKE)
    events = await collect(agent, turn_for("scenario:unknown", tmp_path))
    assert events == [
        AgentSession(THREAD),
        Skipped("an event of unknown type 'thread.renamed'"),
        Skipped("an item of unknown type 'brand_new_item'"),
        TextDelta("Still here."),
        USAGE,
    ]
    assert agent.health()["skipped"] == 2


async def test_garbage_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    agent = CodexAgent(FAKE)
    events = await collect(agent, turn_for("scenario:garbage", tmp_path))
    assert [type(e) for e in events] == [AgentSession, Skipped, Skipped, TextDelta, Usage]
    skipped = [e.what for e in events if isinstance(e, Skipped)]
    assert all("not JSON" in what for what in skipped)
    assert "Reading prompt from stdin..." in skipped[1]
    assert agent.health()["skipped"] == 2


async def test_a_line_over_the_cap_is_skipped_not_fatal(tmp_path: Path) -> None:
    agent = CodexAgent(FAKE, max_line_bytes=64 * 1024)
    events = await collect(agent, turn_for("scenario:huge", tmp_path))
    assert len(events) == 4
    assert isinstance(events[1], Skipped) and "bytes (over 65536)" in events[1].what
    assert events[2:] == [TextDelta("After the long line."), USAGE]
    assert agent.health()["oversized"] == 1


async def test_a_crash_gives_the_status_and_the_end_of_stderr(tmp_path: Path) -> None:
    said, events = await failure(CodexAgent(FAKE), turn_for("scenario:crash", tmp_path))
    assert said == (
        "codex exited with status 3 before finishing its answer: "
        "thread 'main' panicked at core/src/codex.rs:1: boom"
    )
    assert events == [
        AgentSession(THREAD),
        ToolCall("item_0", "execute", "Run ls", "running", input="bash -lc ls"),
    ]


async def test_a_killed_process_names_the_signal(tmp_path: Path) -> None:
    said, _ = await failure(CodexAgent(FAKE), turn_for("scenario:killed", tmp_path))
    assert said == "codex was killed by SIGKILL before finishing its answer"


async def test_not_logged_in_says_how_to_log_in(tmp_path: Path) -> None:
    said, _ = await failure(CodexAgent(FAKE), turn_for("scenario:not_logged_in", tmp_path))
    assert said == "codex is not logged in: run `codex login` on this machine"


@pytest.mark.parametrize("command", ["/nonexistent/codex", "no-such-codex-cli-here"])
async def test_a_missing_executable_says_how_to_install(tmp_path: Path, command: str) -> None:
    agent = CodexAgent(command)
    said, _ = await failure(agent, turn_for("hello", tmp_path))
    assert said == "codex is not installed or not on PATH: install Codex, or pass --agent-command"
    assert agent.health()["ready"] is False


async def test_a_missing_working_directory_is_named(tmp_path: Path) -> None:
    said, _ = await failure(CodexAgent(FAKE), turn_for("hello", tmp_path / "gone"))
    assert said == f"cannot start codex: its working directory {tmp_path / 'gone'} does not exist"


async def test_closing_the_iteration_interrupts_and_reaps_the_group(
    tmp_path: Path, log: Path
) -> None:
    agent = CodexAgent(FAKE)
    events = started(agent, turn_for("scenario:slow", tmp_path))
    pgid = await until_working(events)
    assert live_members(pgid)
    async with asyncio.timeout(LIMIT):
        await events.aclose()
    assert await group_gone(pgid) == []
    assert logged(log) == ["signal SIGINT"]
    assert agent.health()["running"] == 0


async def test_cancelling_the_turn_interrupts_and_reaps_the_group(
    tmp_path: Path, log: Path
) -> None:
    agent = CodexAgent(FAKE)
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
    assert logged(log) == ["signal SIGINT"]


async def test_a_process_that_ignores_signals_is_killed_with_its_children(
    tmp_path: Path, log: Path
) -> None:
    agent = CodexAgent(FAKE, grace=scaled(0.3))
    events = started(agent, turn_for("scenario:stubborn", tmp_path))
    pgid = await until_working(events)
    assert len(live_members(pgid)) == 2  # the fixture and its child
    async with asyncio.timeout(LIMIT):
        await events.aclose()
    assert await group_gone(pgid) == []
    assert logged(log) == ["ignored SIGINT", "ignored SIGTERM"]


async def test_closing_the_session_ends_its_turn_quietly(tmp_path: Path) -> None:
    agent = CodexAgent(FAKE)
    turn = turn_for("scenario:slow", tmp_path)
    seen: asyncio.Queue[int] = asyncio.Queue()

    async def consume() -> None:
        async for event in agent.events(turn, no_ask):
            if (pgid := working_pgid(event)) is not None:
                seen.put_nowait(pgid)

    task = asyncio.create_task(consume())
    async with asyncio.timeout(LIMIT):
        pgid = await seen.get()
        await agent.close(turn.session_id)
        await task
    assert await group_gone(pgid) == []
    assert agent.health()["running"] == 0


def test_health_names_the_command() -> None:
    assert CodexAgent(FAKE).health() == {
        "ready": True,
        "mode": "codex",
        "command": FAKE,
        "running": 0,
        "turns": 0,
        "failed": 0,
        "skipped": 0,
        "oversized": 0,
    }
