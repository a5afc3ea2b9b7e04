"""Running an agent adapter's turn in a test (the Claude Code and Codex adapters' tests share
these): its events collected, its failure's sentence, the process group it works in, and what
reached the stand-in CLI."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from harness.timing import scaled
from mock_backend import fake_agents
from mock_backend.agents.base import AgentAdapter, AgentTurn, Ask
from mock_backend.agents.events import (
    AgentEvent,
    AgentFailed,
    PermissionAnswer,
    PermissionRequest,
    TextDelta,
    ToolCall,
)

STAND_INS = Path(fake_agents.__file__).resolve().parent
LIMIT = scaled(20)


async def no_ask(request: PermissionRequest) -> PermissionAnswer:
    raise AssertionError(f"nothing should be asked: {request}")


async def collect(
    agent: AgentAdapter, turn: AgentTurn, ask: Ask = no_ask, into: list[AgentEvent] | None = None
) -> list[AgentEvent]:
    """The turn's events, without the (timing-dependent) durations."""
    events = into if into is not None else []
    async with asyncio.timeout(LIMIT):
        async for event in agent.events(turn, ask):
            events.append(
                replace(event, duration_ms=None) if isinstance(event, ToolCall) else event
            )
    return events


async def failure(agent: AgentAdapter, turn: AgentTurn) -> tuple[str, list[AgentEvent]]:
    """The AgentFailed sentence, and the events before it."""
    events: list[AgentEvent] = []
    with pytest.raises(AgentFailed) as failed:
        await collect(agent, turn, into=events)
    return str(failed.value), events


def started(agent: AgentAdapter, turn: AgentTurn) -> AsyncGenerator[AgentEvent, None]:
    """The turn's events, as the generator they are (a test closes it)."""
    return agent.events(turn, no_ask)


def working_pgid(event: AgentEvent) -> int | None:
    if isinstance(event, TextDelta) and (found := re.search(r"pgid (\d+)", event.text)):
        return int(found.group(1))
    return None


async def until_working(events: AsyncIterator[AgentEvent]) -> int:
    """Read the turn until the stand-in says which process group it works in."""
    async with asyncio.timeout(LIMIT):
        async for event in events:
            if (pgid := working_pgid(event)) is not None:
                return pgid
    raise AssertionError("the stand-in never said it was working")


def logged(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
