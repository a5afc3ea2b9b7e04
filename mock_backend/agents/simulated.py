"""The simulated agent at work: for a request to change code it plans, reads, searches, edits
(with a diff) and runs the tests (with their output), asking before the edit and the command,
so demo mode and CI show every kind of activity without a real agent. Everything else is
answered by the simulated BridgeHub, as before.

`/tools` shows every kind of activity in one turn; `/approve` asks for one approval; `/busy N`
works through N tool calls with the plan updated every fourth, at the reference server's pace
(a frame every `pace` seconds: the streaming benchmark's busy agent). The steps pause `step`
seconds each (0 in tests), so a reply's work is seen to happen.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator
from typing import Any

from mock_backend.agents.base import AgentTurn, Ask
from mock_backend.agents.events import (
    AgentEvent,
    Diff,
    Kind,
    Location,
    PermissionRequest,
    Plan,
    PlanEntry,
    TextDelta,
    ToolCall,
    Usage,
)
from mock_backend.agents.relay import BridgeHubAgent
from mock_backend.bridgehub.protocol import BridgeHub

_CHANGE = re.compile(
    r"\b(fix|change|edit|refactor|rename|implement|update)\b.*"
    r"\b(code|bug|test|tests|function|file|module|class|parser|[\w-]+\.(py|js|ts|go|rs|md))\b",
    re.IGNORECASE | re.DOTALL,
)
FILE = "app/parser.py"
OLD = """def parse_size(text: str) -> int:
    number, unit = text[:-2], text[-2:]
    return int(number) * {"KB": 1024, "MB": 1024**2}[unit]
"""
NEW = """def parse_size(text: str) -> int:
    text = text.strip().upper()
    number, unit = text[:-2].strip(), text[-2:]
    return int(float(number) * {"KB": 1024, "MB": 1024**2, "GB": 1024**3}[unit])
"""
TEST_OUTPUT = """============================= test session starts ==============================
collected 12 items

tests/test_parser.py ............                                        [100%]

============================== 12 passed in 0.04s ==============================
"""


def wants_activity(message: str) -> bool:
    """A request the simulated agent works on with tools (rather than just answering)."""
    command = message.strip().lower()
    return command.startswith(("/tools", "/approve", "/busy")) or bool(_CHANGE.search(message))


class SimulatedAgent:
    name = "simulated"

    def __init__(self, bridgehub: BridgeHub, *, step: float = 0.3, pace: float = 0.05) -> None:
        self.text = BridgeHubAgent(bridgehub)
        self.step = step
        self.pace = pace
        self._ids = 0

    async def events(self, turn: AgentTurn, ask: Ask) -> AsyncGenerator[AgentEvent, None]:
        command = turn.message.strip().lower()
        if command.startswith("/approve"):
            run = self._approval_only(ask)
        elif command.startswith("/busy"):
            words = command.split()
            count = int(words[1]) if len(words) > 1 and words[1].isdigit() else 200
            run = self._busy(min(count, 10_000))
        elif wants_activity(turn.message):
            run = self._change(ask, every_kind=command.startswith("/tools"))
        else:
            run = self.text.events(turn, ask)
        async for event in run:
            yield event

    async def close(self, session_id: str) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {**self.text.health(), "activity": True}

    # the scripts -------------------------------------------------------------------------------

    def _id(self) -> str:
        self._ids += 1
        return f"sim-{self._ids}"

    async def _pause(self) -> None:
        if self.step:
            await asyncio.sleep(self.step)

    async def _tool(
        self,
        kind: Kind,
        title: str,
        *,
        ask: Ask | None = None,
        locations: tuple[Location, ...] = (),
        input: str = "",
        output: str = "",
        diff: Diff | None = None,
        fails: bool = False,
    ) -> AsyncGenerator[AgentEvent, None]:
        """One tool call through its life: asked (when `ask`), running, then done."""
        call = ToolCall(self._id(), kind, title, "pending", locations, input, diff=diff)
        started = time.monotonic()
        if ask is not None:
            yield call
            answer = await ask(PermissionRequest(call))
            if answer.decision == "deny":
                why = answer.reason or f"denied by {answer.by}"
                yield ToolCall(call.id, kind, title, "failed", locations, input, why, diff)
                return
        yield ToolCall(call.id, kind, title, "running", locations, input, diff=diff)
        await self._pause()
        took = int((time.monotonic() - started) * 1000)
        yield ToolCall(
            call.id,
            kind,
            title,
            "failed" if fails else "completed",
            locations,
            input,
            output,
            diff,
            took,
        )

    async def _change(self, ask: Ask, *, every_kind: bool) -> AsyncGenerator[AgentEvent, None]:
        steps = ["Read the parser", "Find its callers", "Fix parse_size", "Run the tests"]
        plan = [PlanEntry(s) for s in steps]

        def planned(done: int) -> Plan:
            return Plan(
                tuple(
                    PlanEntry(e.content, "completed" if i < done else "in_progress")
                    if i <= done
                    else e
                    for i, e in enumerate(plan)
                )
            )

        yield TextDelta("Let me look at the code first.\n\n")
        yield planned(0)
        await self._pause()
        async for event in self._tool(
            "read", f"Read {FILE}", locations=(Location(FILE, 1),), output=OLD
        ):
            yield event
        yield planned(1)
        async for event in self._tool(
            "search",
            "Search for parse_size",
            input="parse_size",
            output=f"{FILE}:1\napp/cli.py:14\ntests/test_parser.py:3",
            locations=(Location("app/cli.py", 14),),
        ):
            yield event
        yield TextDelta(
            "`parse_size` breaks on lower case units and on decimals (`1.5mb`). "
            "I'll fix it and add gigabytes.\n\n"
        )
        yield planned(2)
        edit = self._tool(
            "edit",
            f"Edit {FILE}",
            ask=ask,
            locations=(Location(FILE, 1),),
            diff=Diff(FILE, OLD, NEW),
        )
        async for event in edit:
            yield event
        if isinstance(event, ToolCall) and event.status == "failed":
            yield TextDelta(f"I left `{FILE}` as it was: {event.output}.")
            return
        yield planned(3)
        async for event in self._tool(
            "execute", "Run pytest -q", ask=ask, input="pytest -q", output=TEST_OUTPUT
        ):
            yield event
        if every_kind:
            for kind, title, output in (
                ("think", "Think about edge cases", "Empty input, spaces, unknown units."),
                ("fetch", "Fetch https://docs.python.org/3/library/functions.html#float", "200"),
                ("delegate", "Ask a reviewer agent", "Looks good; consider TB too."),
                ("move", "Move app/old_parser.py to attic/", ""),
                ("delete", "Delete attic/old_parser.py", ""),
                ("other", "Update the changelog", ""),
            ):
                async for event in self._tool(kind, title, output=output):  # type: ignore[arg-type]
                    yield event
        yield Plan(tuple(PlanEntry(e.content, "completed") for e in plan))
        yield TextDelta(
            f"Done: `{FILE}` now accepts any case, spaces and decimals, and knows GB. "
            "The 12 tests pass."
        )
        yield Usage({"input_tokens": 1840, "output_tokens": 312}, 0.0123)

    async def _busy(self, count: int) -> AsyncGenerator[AgentEvent, None]:
        """`count` tool calls, each with a sentence before it, and the plan every fourth."""
        steps = [f"Step {n + 1}" for n in range(min(50, max(1, count // 4)))]
        for n in range(count):
            if n % 4 == 0 and n // 4 < len(steps):
                yield Plan(
                    tuple(
                        PlanEntry(
                            s,
                            "completed"
                            if i < n // 4
                            else "in_progress"
                            if i == n // 4
                            else "pending",
                        )
                        for i, s in enumerate(steps)
                    )
                )
            yield TextDelta(f"Step {n + 1}: looking at the next file, as the plan says. ")
            await asyncio.sleep(self.pace)
            call = ToolCall(self._id(), "read", f"Read src/module_{n}.py", "running")
            yield call
            await asyncio.sleep(self.pace)
            yield ToolCall(
                call.id, "read", call.title, "completed", output="42 lines", duration_ms=1
            )
            await asyncio.sleep(self.pace)
        yield TextDelta("All done.")

    async def _approval_only(self, ask: Ask) -> AsyncGenerator[AgentEvent, None]:
        yield TextDelta("I need to run one command.\n\n")
        async for event in self._tool(
            "execute", "Run ls -la", ask=ask, input="ls -la", output="total 0\n"
        ):
            yield event
        yield TextDelta("That was the command; nothing else to do.")
