"""Claude Code behind the mock: one `claude` process per turn, stream-json both ways.

The CLI is run as Anthropic's Agent SDK runs it (`--output-format stream-json --input-format
stream-json --permission-prompt-tool stdio`), but the parsing is written here against the wire
format: the SDK's wheel bundles the whole CLI (about 190 MB) and pulls in an MCP stack, for a
protocol of a few message types. The session id from `system/init` is reported as
`AgentSession`, and a later turn passes it back with `--resume=ID`.

Permission requests arrive as `can_use_tool` control requests: they are put to the clients
through `Ask` (or answered by the configured policy) and answered on stdin. Stopping a turn
sends the CLI an `interrupt` control request, then ends the process and its group.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import AsyncGenerator
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

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
    PermissionAnswer,
    PermissionRequest,
    Plan,
    PlanEntry,
    PlanStatus,
    Skipped,
    TextDelta,
    ToolCall,
    ToolStatus,
    Usage,
)
from mock_backend.agents.process import MAX_LINE_BYTES, AgentProcess, Oversized

Permission = Literal["ask", "allow", "deny"]
PERMISSIONS: tuple[Permission, ...] = ("ask", "allow", "deny")
"""Ask the clients before a tool runs, or answer every request without asking them."""

DENIED = "User refused permission to run tool"
DENIED_BY_POLICY = "The server's permission policy denies every tool"
NO_ANSWER = "No one answered the permission request in time"

_IGNORED = frozenset(
    {
        "rate_limit_event",
        "control_response",
        "control_cancel_request",
        "conversation_reset",
        "transcript_mirror",
    }
)
"""Types that say nothing the turn shows (metadata, acknowledgements)."""
_PLAN_STATUSES: dict[str, PlanStatus] = {
    "pending": "pending",
    "in_progress": "in_progress",
    "completed": "completed",
}
_request_ids = itertools.count(1)


class ClaudeCodeAgent(CliAgent):
    name = "claude-code"
    program = "claude"
    install_hint = "install Claude Code, or pass --agent-command"
    login_hint = "run `claude` once on this machine"
    auth_markers = (
        "invalid api key",
        "please run /login",
        "not logged in",
        "authentication_failed",
        "oauth token has expired",
    )

    def __init__(
        self,
        command: str = "claude",
        workdir: Path | None = None,
        permission: Permission | str = "ask",
        *,
        grace: float = 3.0,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        super().__init__(command, workdir, grace=grace, max_line_bytes=max_line_bytes)
        if permission not in PERMISSIONS:
            raise ValueError(f"permission must be ask, allow or deny, not {permission!r}")
        self.permission: Permission = permission

    def health(self) -> dict[str, Any]:
        return {**super().health(), "permission": self.permission}

    def arguments(self, turn: AgentTurn) -> list[str]:
        args = [
            "--output-format", "stream-json",
            "--input-format", "stream-json",
            "--verbose",
            "--include-partial-messages",
            "--permission-prompt-tool", "stdio",
        ]  # fmt: skip
        if turn.resume:
            args.append(f"--resume={turn.resume}")  # one word: an id cannot pass for a flag
        return args

    async def events(self, turn: AgentTurn, ask: Ask) -> AsyncGenerator[AgentEvent, None]:
        cwd = turn.workdir or self.workdir
        env = {k: v for k, v in os.environ.items() if k != "CLAUDECODE"}  # not "nested"
        if cwd is not None:
            env["PWD"] = str(cwd)
        proc = await self._start(turn, self.arguments(turn), stdin=True, env=env)
        stream = ClaudeStream(cwd)
        try:
            await proc.write_line(_control_request({"subtype": "initialize", "hooks": None}))
            await proc.write_line(
                json.dumps(
                    {
                        "type": "user",
                        "message": {"role": "user", "content": prompt_text(turn)},
                        "parent_tool_use_id": None,
                        "session_id": "",
                    }
                )
            )
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
                if message.get("type") == "control_request":
                    request = message.get("request")
                    if not isinstance(request, dict) or request.get("subtype") != "can_use_tool":
                        yield self._noted(await self._unsupported(proc, message))
                        continue
                    call, new = stream.tool_call_for(request)
                    if new:  # asked about before (or without) its `assistant` line
                        yield call
                    if running := await self._permission(proc, stream, message, call, ask):
                        yield running
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
            if not stream.done and not proc.ending:
                proc.write_line_nowait(_control_request({"subtype": "interrupt"}))
            await self._finish(turn, proc)

    async def _unsupported(self, proc: AgentProcess, message: dict[str, Any]) -> Skipped:
        """Refuse a control request this client has no use for (hooks, SDK MCP servers): the
        CLI must not wait for an answer that never comes."""
        request = message.get("request")
        subtype = request.get("subtype") if isinstance(request, dict) else None
        await proc.write_line(
            _control_reply(
                message.get("request_id"), error=f"{subtype} is not supported by this client"
            )
        )
        return Skipped(f"a control request {subtype!r}")

    async def _permission(
        self,
        proc: AgentProcess,
        stream: ClaudeStream,
        message: dict[str, Any],
        call: ToolCall,
        ask: Ask,
    ) -> ToolCall | None:
        """Decide a `can_use_tool` request and answer the CLI; the call, running, if allowed."""
        request = message["request"]
        answer = await self._decide(call, ask)
        running: ToolCall | None = None
        if answer.decision == "deny":
            reason = answer.reason or (NO_ANSWER if answer.by == "timeout" else DENIED)
            reply: dict[str, Any] = {"behavior": "deny", "message": reason}
        else:
            reply = {"behavior": "allow", "updatedInput": request.get("input") or {}}
            if answer.decision == "allow_session":
                reply["updatedPermissions"] = [
                    {
                        "type": "addRules",
                        "rules": [{"toolName": request.get("tool_name") or call.title}],
                        "behavior": "allow",
                        "destination": "session",
                    }
                ]
            running = stream.set_status(call, "running")
        await proc.write_line(_control_reply(message.get("request_id"), response=reply))
        return running

    async def _decide(self, call: ToolCall, ask: Ask) -> PermissionAnswer:
        if self.permission == "allow":
            return PermissionAnswer("allow_once", by="policy")
        if self.permission == "deny":
            return PermissionAnswer("deny", by="policy", reason=DENIED_BY_POLICY)
        return await ask(PermissionRequest(call))


def _control_request(request: dict[str, Any]) -> str:
    request_id = f"req_{next(_request_ids)}_{os.urandom(4).hex()}"
    return json.dumps({"type": "control_request", "request_id": request_id, "request": request})


def _control_reply(
    request_id: Any, *, response: dict[str, Any] | None = None, error: str | None = None
) -> str:
    body: dict[str, Any] = {"request_id": request_id}
    if error is not None:
        body.update(subtype="error", error=error)
    else:
        body.update(subtype="success", response=response or {})
    return json.dumps({"type": "control_response", "response": body})


class ClaudeStream:
    """Claude Code's stdout messages → events, without I/O: one per turn."""

    def __init__(self, workdir: Path | None = None) -> None:
        self.workdir = workdir
        self.session_id: str | None = None
        self.done = False
        """The turn's `result` arrived."""
        self.error: str | None = None
        """The `result` said the turn failed: its text."""
        self.last_error = ""
        """The text of an assistant message flagged as an API error (a crash message uses it)."""
        self.tools: dict[str, ToolCall] = {}
        self._started: dict[str, float] = {}
        self._plans: set[str] = set()
        """TodoWrite calls: shown as the plan, their results say nothing more."""
        self._streamed: set[str] = set()
        """Messages whose text came as deltas: their whole text blocks are not shown again."""
        self._message_id = ""
        self._wrote_text = False
        self._new_block = False
        self._thoughts = 0

    def feed(self, message: dict[str, Any]) -> list[AgentEvent]:
        kind = message.get("type")
        if kind in _IGNORED:
            return []
        if kind == "system":
            if message.get("subtype") == "init":
                return self._session(message.get("session_id"))
            return []
        if kind == "stream_event":
            return self._partial(message)
        if kind == "assistant":
            return self._assistant(message)
        if kind == "user":
            return self._user(message)
        if kind == "result":
            return self._result(message)
        return [Skipped(f"an event of unknown type {kind!r}")]

    def _session(self, session_id: Any) -> list[AgentEvent]:
        if not isinstance(session_id, str) or not session_id or session_id == self.session_id:
            return []
        self.session_id = session_id
        return [AgentSession(session_id)]

    def _text(self, text: str) -> list[AgentEvent]:
        """Reply text; a new block starts a new paragraph."""
        if not text:
            return []
        if self._new_block and self._wrote_text:
            text = "\n\n" + text
        self._new_block = False
        self._wrote_text = True
        return [TextDelta(text)]

    def _partial(self, message: dict[str, Any]) -> list[AgentEvent]:
        event = message.get("event")
        if message.get("parent_tool_use_id") or not isinstance(event, dict):
            return []  # a sub-agent's own words are not the reply
        kind = event.get("type")
        if kind == "message_start":
            started = event.get("message")
            self._message_id = str(started.get("id", "")) if isinstance(started, dict) else ""
        elif kind == "content_block_start":
            block = event.get("content_block")
            if isinstance(block, dict) and block.get("type") == "text":
                self._new_block = True
        elif kind == "content_block_delta":
            delta = event.get("delta")
            if isinstance(delta, dict) and delta.get("type") == "text_delta":
                self._streamed.add(self._message_id)
                return self._text(str(delta.get("text") or ""))
        return []

    def _assistant(self, message: dict[str, Any]) -> list[AgentEvent]:
        body = message.get("message")
        if not isinstance(body, dict):
            return [Skipped("an assistant message without a message")]
        blocks = body.get("content")
        blocks = blocks if isinstance(blocks, list) else []
        if message.get("error") or body.get("error"):
            texts = [str(b.get("text", "")) for b in blocks if isinstance(b, dict)]
            self.last_error = " ".join(t for t in texts if t) or str(
                message.get("error") or body.get("error")
            )
            return []
        sub_agent = bool(message.get("parent_tool_use_id"))
        streamed = str(body.get("id", "")) in self._streamed
        events: list[AgentEvent] = []
        for block in blocks:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and not sub_agent and not streamed:
                self._new_block = True
                events += self._text(str(block.get("text") or ""))
            elif kind == "thinking" and block.get("thinking"):
                self._thoughts += 1
                events.append(
                    ToolCall(
                        id=f"{body.get('id', 'thinking')}-thought-{self._thoughts}",
                        kind="think",
                        title="Thinking",
                        status="completed",
                        output=str(block["thinking"]),
                    )
                )
            elif kind == "tool_use":
                events.append(self._tool_use(block))
            elif kind == "server_tool_use":  # run on Anthropic's side: done when shown
                tool_input = block.get("input")
                call = self.describe(
                    str(block.get("id") or "server-tool"),
                    str(block.get("name") or "server tool"),
                    tool_input if isinstance(tool_input, dict) else {},
                )
                events.append(replace(call, status="completed"))
        return events

    def _tool_use(self, block: dict[str, Any]) -> ToolCall | Plan:
        call_id = str(block.get("id") or f"tool-{len(self.tools) + 1}")
        name = str(block.get("name") or "tool")
        tool_input = block.get("input")
        tool_input = tool_input if isinstance(tool_input, dict) else {}
        if name == "TodoWrite":
            self._plans.add(call_id)
            return _plan(tool_input.get("todos"))
        call = self.describe(call_id, name, tool_input)
        self.tools[call_id] = call
        self._started[call_id] = time.monotonic()
        return call

    def describe(self, call_id: str, name: str, tool_input: dict[str, Any]) -> ToolCall:
        """A pending tool call, as the clients see it."""
        path = str(tool_input.get("file_path") or tool_input.get("notebook_path") or "")
        shown = shown_path(path, self.workdir)
        kind: Kind = "other"
        title = name
        locations: tuple[Location, ...] = (Location(path),) if path else ()
        diff: Diff | None = None
        text_input = as_json(tool_input)
        if name == "Read":
            offset = tool_input.get("offset")
            line = offset if isinstance(offset, int) and not isinstance(offset, bool) else None
            kind, title, locations = "read", f"Read {shown}", (Location(path, line),)
        elif name == "Write":
            kind, title = "edit", f"Write {shown}"
            diff = Diff(path, "", str(tool_input.get("content") or ""))
        elif name == "Edit":
            kind, title = "edit", f"Edit {shown}"
            diff = Diff(
                path,
                str(tool_input.get("old_string") or ""),
                str(tool_input.get("new_string") or ""),
            )
        elif name in ("MultiEdit", "NotebookEdit"):
            kind, title = "edit", f"Edit {shown}"
            edits = tool_input.get("edits")
            if isinstance(edits, list):
                pairs = [e for e in edits if isinstance(e, dict)]
                diff = Diff(
                    path,
                    "\n\n".join(str(e.get("old_string") or "") for e in pairs),
                    "\n\n".join(str(e.get("new_string") or "") for e in pairs),
                )
        elif name == "Bash":
            command = str(tool_input.get("command") or "")
            kind, title, text_input = "execute", f"Run {short(command)}", command
        elif name in ("Grep", "Glob"):
            pattern = str(tool_input.get("pattern") or "")
            where = str(tool_input.get("path") or "")
            kind = "search"
            title = f'Search "{pattern}"' if name == "Grep" else f"Find {pattern}"
            if where:
                title += f" in {shown_path(where, self.workdir)}"
                locations = (Location(where),)
        elif name in ("WebFetch", "web_fetch"):
            kind, title = "fetch", f"Fetch {tool_input.get('url') or ''}"
        elif name in ("WebSearch", "web_search"):
            kind, title = "fetch", f'Search the web for "{tool_input.get("query") or ""}"'
        elif name in ("Task", "Agent"):
            kind = "delegate"
            title = str(tool_input.get("description") or "Sub-agent")
            text_input = str(tool_input.get("prompt") or "") or text_input
        return ToolCall(
            id=call_id,
            kind=kind,
            title=short(title),
            status="pending",
            locations=locations,
            input=text_input,
            diff=diff,
        )

    def tool_call_for(self, request: dict[str, Any]) -> tuple[ToolCall, bool]:
        """The tool call a permission request is about, and whether it is new (the request
        came before, or without, its `assistant` line)."""
        call_id = str(request.get("tool_use_id") or "")
        if call_id in self.tools:
            return self.tools[call_id], False
        tool_input = request.get("input")
        call = self.describe(
            call_id or f"permission-{len(self.tools) + 1}",
            str(request.get("tool_name") or "tool"),
            tool_input if isinstance(tool_input, dict) else {},
        )
        self.tools[call.id] = call
        self._started[call.id] = time.monotonic()
        return call, True

    def set_status(self, call: ToolCall, status: ToolStatus) -> ToolCall:
        """`call` (as it stands now) with a new status, kept for its result."""
        call = replace(self.tools.get(call.id, call), status=status)
        self.tools[call.id] = call
        return call

    def _user(self, message: dict[str, Any]) -> list[AgentEvent]:
        body = message.get("message")
        blocks = body.get("content") if isinstance(body, dict) else None
        if not isinstance(blocks, list):
            return []
        events: list[AgentEvent] = []
        for block in blocks:
            if not isinstance(block, dict) or block.get("type") != "tool_result":
                continue
            call_id = str(block.get("tool_use_id") or "")
            call = self.tools.pop(call_id, None)
            if call is None:
                continue  # a TodoWrite's acknowledgement, or a call never shown
            started = self._started.pop(call_id, None)
            events.append(
                replace(
                    call,
                    status="failed" if block.get("is_error") else "completed",
                    output=_result_text(block.get("content")),
                    duration_ms=(
                        round((time.monotonic() - started) * 1000) if started is not None else None
                    ),
                )
            )
        return events

    def _result(self, message: dict[str, Any]) -> list[AgentEvent]:
        self.done = True
        events = self._session(message.get("session_id"))
        failed = bool(message.get("is_error")) or message.get("subtype") not in (None, "success")
        if failed:
            errors = message.get("errors")
            texts = [str(e) for e in errors if e] if isinstance(errors, list) else []
            self.error = (
                "; ".join(texts)
                or str(message.get("result") or "")
                or f"claude failed ({message.get('subtype') or 'error'})"
            )
            for call_id in list(self.tools):  # what was still open will not finish now
                events.append(replace(self.tools.pop(call_id), status="failed"))
            self._started.clear()
            return events
        cost = message.get("total_cost_usd")
        events.append(
            Usage(
                tokens=token_counts(message.get("usage")),
                cost_usd=float(cost) if isinstance(cost, int | float) else None,
            )
        )
        return events


def _plan(todos: Any) -> Plan:
    entries: list[PlanEntry] = []
    for todo in todos if isinstance(todos, list) else []:
        if isinstance(todo, dict) and todo.get("content"):
            status = _PLAN_STATUSES.get(str(todo.get("status")), "pending")
            entries.append(PlanEntry(str(todo["content"]), status))
    return Plan(tuple(entries))


def _result_text(content: Any) -> str:
    """A tool_result's content as text: a string, or text blocks (an image is named only)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text") or ""))
            elif isinstance(block, dict):
                parts.append(f"[{block.get('type', 'content')}]")
        return "\n".join(parts)
    return as_json(content)
