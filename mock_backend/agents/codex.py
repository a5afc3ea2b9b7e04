"""Codex behind the mock: one `codex exec --json` process per turn.

`codex exec` never asks before running a tool (headless, it fixes its approval policy to
"never"): the sandbox is the only boundary, so it runs with `--sandbox workspace-write`, and
this adapter has no permission requests to put to the clients. The thread id from
`thread.started` is reported as `AgentSession`, and a later turn passes it back with
`codex exec … resume THREAD_ID`. Stopping a turn sends SIGINT to the process group, then
SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import AsyncGenerator
from dataclasses import replace
from pathlib import Path
from typing import Any

from mock_backend.agents.base import AgentTurn, Ask
from mock_backend.agents.cli_agent import (
    CliAgent,
    as_json,
    parse_line,
    prompt_text,
    short,
    shown_path,
    token_counts,
)
from mock_backend.agents.events import (
    AgentEvent,
    AgentSession,
    Diff,
    Kind,
    Location,
    Plan,
    PlanEntry,
    Skipped,
    TextDelta,
    ToolCall,
    ToolStatus,
    Usage,
)
from mock_backend.agents.process import MAX_LINE_BYTES, Oversized

log = logging.getLogger(__name__)

_STATUSES: dict[str, ToolStatus] = {
    "in_progress": "running",
    "completed": "completed",
    "failed": "failed",
    "declined": "failed",
}
_SHELLS = frozenset({"bash", "sh", "zsh", "dash"})
_QUIET = frozenset({"turn.started", "item.plan.delta", "request_user_input"})
"""Events with nothing to show (a plan-mode draft; a question exec never waits for)."""


class CodexAgent(CliAgent):
    name = "codex"
    program = "codex"
    install_hint = "install Codex, or pass --agent-command"
    login_hint = "run `codex login` on this machine"
    auth_markers = (
        "401 unauthorized",
        "not logged in",
        "codex login",
        "missing bearer",
        "token could not be refreshed",
    )

    def __init__(
        self,
        command: str = "codex",
        workdir: Path | None = None,
        *,
        sandbox: str = "workspace-write",
        grace: float = 3.0,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        super().__init__(command, workdir, grace=grace, max_line_bytes=max_line_bytes)
        self.sandbox = sandbox

    def arguments(self, turn: AgentTurn) -> list[str]:
        """`exec --json [--sandbox S] [resume ID] -- PROMPT`: exec's own flags before `resume`
        (a resumed thread takes the sandbox again), the prompt after `--` so that text
        starting with a dash is not read as a flag."""
        args = ["exec", "--json"]
        if self.sandbox:
            args += ["--sandbox", self.sandbox]
        if turn.resume:
            args += ["resume", turn.resume]
        return [*args, "--", prompt_text(turn)]

    async def events(self, turn: AgentTurn, ask: Ask) -> AsyncGenerator[AgentEvent, None]:
        proc = await self._start(turn, self.arguments(turn), stdin=False, env=None)
        stream = CodexStream(turn.workdir or self.workdir)
        try:
            while (line := await proc.readline()) is not None:
                if isinstance(line, Oversized):
                    yield self._oversized(line)
                    continue
                message = parse_line(line)
                if message is None:
                    continue
                if isinstance(message, Skipped):
                    yield self._noted(message)
                    continue
                for event in stream.feed(message):
                    yield self._noted(event)
                if stream.done:
                    break
            if stream.error is not None:
                raise self._failed(stream.error)
            if not stream.done:
                if proc.ending:  # the session was closed, or the backend stops
                    return
                code = await self._finish(turn, proc)
                raise self._crashed(proc, code, stream.last_error)
        finally:
            # Done: codex exits by itself. Stopped: SIGINT at once (exec ends its turn on it).
            await self._finish(turn, proc, polite=stream.done)


class CodexStream:
    """`codex exec --json` lines → events, without I/O: one per turn."""

    def __init__(self, workdir: Path | None = None) -> None:
        self.workdir = workdir
        self.done = False
        """`turn.completed` or `turn.failed` arrived."""
        self.error: str | None = None
        """`turn.failed`'s message."""
        self.last_error = ""
        """The last `error` event's message (a crash message uses it)."""
        self._started: dict[str, float] = {}
        self._wrote_text = False

    def feed(self, message: dict[str, Any]) -> list[AgentEvent]:
        kind = message.get("type")
        if kind in _QUIET:
            return []
        if kind == "thread.started":
            thread = message.get("thread_id")
            return [AgentSession(thread)] if isinstance(thread, str) and thread else []
        if kind == "turn.completed":
            self.done = True
            return [Usage(tokens=token_counts(message.get("usage")))]
        if kind == "turn.failed":
            self.done = True
            error = message.get("error")
            text = error.get("message") if isinstance(error, dict) else None
            self.error = str(text or self.last_error or "codex failed")
            return []
        if kind == "error":
            self.last_error = str(message.get("message") or "")
            return []
        if kind in ("item.started", "item.updated", "item.completed"):
            item = message.get("item")
            if isinstance(item, dict):
                return self._item(item, finished=kind == "item.completed")
            return [Skipped(f"{kind} without an item")]
        return [Skipped(f"an event of unknown type {kind!r}")]

    def _item(self, item: dict[str, Any], *, finished: bool) -> list[AgentEvent]:
        kind = item.get("type")
        item_id = str(item.get("id") or f"item-{kind}")
        if kind == "agent_message":
            return self._text(str(item.get("text") or "")) if finished else []
        if kind == "reasoning":
            text = str(item.get("text") or "")
            if not finished or not text.strip():
                return []
            title = short(text.strip().splitlines()[0].strip().strip("*").strip()) or "Thinking"
            return [ToolCall(item_id, "think", title, "completed", output=text)]
        if kind == "todo_list":
            return [_plan(item.get("items"))]
        if kind == "error":
            log.warning("codex: %s", item.get("message"))
            return []
        if kind == "command_execution":
            call = self._command(item_id, item, finished)
        elif kind == "file_change":
            call = self._file_change(item_id, item, finished)
        elif kind == "mcp_tool_call":
            call = self._mcp(item_id, item, finished)
        elif kind == "web_search":
            query = str(item.get("query") or "")
            call = ToolCall(
                item_id,
                "fetch",
                short(f'Search the web for "{query}"'),
                "completed" if finished else "running",
                input=query,
            )
        else:
            return [Skipped(f"an item of unknown type {kind!r}")]
        return [self._timed(call)]

    def _text(self, text: str) -> list[AgentEvent]:
        if not text:
            return []
        if self._wrote_text:
            text = "\n\n" + text
        self._wrote_text = True
        return [TextDelta(text)]

    def _timed(self, call: ToolCall) -> ToolCall:
        """`call` with how long it took, once it is done."""
        started = self._started.setdefault(call.id, time.monotonic())
        if call.status in ("completed", "failed"):
            del self._started[call.id]
            return replace(call, duration_ms=_since(started))
        return call

    def _command(self, item_id: str, item: dict[str, Any], finished: bool) -> ToolCall:
        command = str(item.get("command") or "")
        status = _status(item, finished)
        title = f"Run {short(_unwrapped(command))}"
        if item.get("status") == "declined":
            title += " (declined by the sandbox)"
        output = str(item.get("aggregated_output") or "")
        code = item.get("exit_code")
        if isinstance(code, int) and code != 0 and status != "running":
            status = "failed"
            output = f"{output.rstrip()}\n(exit code {code})".lstrip()
        return ToolCall(item_id, "execute", title, status, input=command, output=output)

    def _file_change(self, item_id: str, item: dict[str, Any], finished: bool) -> ToolCall:
        changes = [c for c in item.get("changes") or [] if isinstance(c, dict)]
        paths = [str(c.get("path") or "") for c in changes]
        kinds = {str(c.get("kind") or "update") for c in changes}
        kind: Kind = "delete" if kinds == {"delete"} else "edit"
        verb = {"add": "Create", "delete": "Delete"}.get(next(iter(kinds)), "Edit")
        if len(kinds) != 1:
            verb = "Edit"
        shown = ", ".join(shown_path(p, self.workdir) for p in paths) or "files"
        diffs = [c for c in changes if isinstance(c.get("diff"), str) and c["diff"]]
        diff = None
        if len(changes) == 1 and diffs:
            change = diffs[0]
            old, new = _sides(str(change.get("kind") or "update"), change["diff"])
            diff = Diff(str(change.get("path") or ""), old, new)
        output = "\n".join(f"{c.get('kind') or 'update'} {c.get('path')}" for c in changes)
        if len(changes) > 1 and diffs:
            output += "\n\n" + "\n".join(str(c["diff"]) for c in diffs)
        return ToolCall(
            item_id,
            kind,
            short(f"{verb} {shown}"),
            _status(item, finished),
            locations=tuple(Location(p) for p in paths if p),
            output=output,
            diff=diff,
        )

    def _mcp(self, item_id: str, item: dict[str, Any], finished: bool) -> ToolCall:
        status = _status(item, finished)
        error = item.get("error")
        output = ""
        if isinstance(error, dict) and error.get("message"):
            status, output = "failed", str(error["message"])
        elif isinstance(item.get("result"), dict):
            result = item["result"]
            blocks = result.get("content")
            texts = [
                str(b.get("text") or "")
                for b in (blocks if isinstance(blocks, list) else [])
                if isinstance(b, dict) and b.get("type") == "text"
            ]
            output = "\n".join(texts) or as_json(result.get("structured_content"))
        title = ".".join(str(item.get(k) or "") for k in ("server", "tool") if item.get(k))
        return ToolCall(
            item_id,
            "other",
            short(title or "MCP tool"),
            status,
            input=as_json(item.get("arguments")),
            output=output,
        )


def _status(item: dict[str, Any], finished: bool) -> ToolStatus:
    status = _STATUSES.get(str(item.get("status")))
    if status is None or (finished and status == "running"):
        return "completed" if finished else "running"
    return status


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _unwrapped(command: str) -> str:
    """`bash -lc 'pytest -q'` as `pytest -q`: codex wraps every command in a login shell."""
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    if len(words) == 3 and Path(words[0]).name in _SHELLS and words[1] in ("-lc", "-c"):
        return words[2]
    return command


def _sides(kind: str, diff: str) -> tuple[str, str]:
    """A change's text before and after: a new file's diff is its content, a deleted one's
    its old content, an update's a unified diff (its hunks, context on both sides)."""
    if kind == "add":
        return "", diff
    if kind == "delete":
        return diff, ""
    old: list[str] = []
    new: list[str] = []
    in_hunk = False
    for line in diff.splitlines():
        if line.startswith("@@"):
            if in_hunk:
                old.append("…")
                new.append("…")
            in_hunk = True
        elif not in_hunk or line.startswith("\\"):
            continue
        elif line.startswith("-"):
            old.append(line[1:])
        elif line.startswith("+"):
            new.append(line[1:])
        else:
            old.append(line[1:])
            new.append(line[1:])
    if not in_hunk:
        return "", diff
    return "\n".join(old), "\n".join(new)


def _plan(items: Any) -> Plan:
    """A todo list as the plan: its first open entry is the one in progress."""
    entries: list[PlanEntry] = []
    current = False
    for todo in items if isinstance(items, list) else []:
        if not isinstance(todo, dict) or not todo.get("text"):
            continue
        if todo.get("completed"):
            entries.append(PlanEntry(str(todo["text"]), "completed"))
        else:
            entries.append(PlanEntry(str(todo["text"]), "pending" if current else "in_progress"))
            current = True
    return Plan(tuple(entries))
