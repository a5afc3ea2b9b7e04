"""What the Claude Code and Codex adapters share: starting the CLI with sentences a user can act
on, keeping track of the processes each session runs (so `close` and `shutdown` can end them),
the counts `health()` reports, and the small formatting rules both mappings use."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import shutil
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mock_backend.agents.base import AgentTurn
from mock_backend.agents.events import AgentEvent, AgentFailed, Skipped
from mock_backend.agents.process import MAX_LINE_BYTES, AgentProcess, Oversized

log = logging.getLogger(__name__)

MAX_TITLE = 200
"""Characters of a tool call's title: a one-line summary, the input says the rest."""


class CliAgent:
    """One CLI run per turn, tracked by BuilderOS session. Subclasses build the command line and
    map the output; `program` names the CLI in the sentences shown to the user."""

    name = "cli"
    program = "agent"
    install_hint = "install it, or pass --agent-command"
    login_hint = "log in on this machine"
    auth_markers: tuple[str, ...] = ()
    """Lower-case fragments of the CLI's own texts that mean it has no valid login."""

    def __init__(
        self,
        command: str,
        workdir: Path | None = None,
        *,
        grace: float = 3.0,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise ValueError(f"the {self.program} command is empty")
        self.workdir = workdir
        self.grace = grace
        """Seconds each step of ending a process waits before the next, firmer one."""
        self.max_line_bytes = max_line_bytes
        self._running: dict[str, set[AgentProcess]] = {}
        self._endings: set[asyncio.Future[int | None]] = set()
        self.counts = {"turns": 0, "failed": 0, "skipped": 0, "oversized": 0}

    def health(self) -> dict[str, Any]:
        return {
            "ready": shutil.which(self.argv[0]) is not None,
            "mode": self.name,
            "command": self.argv[0],
            "running": sum(len(procs) for procs in self._running.values()),
            **self.counts,
        }

    async def close(self, session_id: str) -> None:
        await self._end_all(self._running.get(session_id, set()))

    async def shutdown(self) -> None:
        await self._end_all({p for procs in self._running.values() for p in procs})
        if self._endings:
            await asyncio.gather(*self._endings, return_exceptions=True)

    async def _end_all(self, procs: set[AgentProcess]) -> None:
        if procs:
            await asyncio.gather(
                *(p.end(polite=False) for p in list(procs)), return_exceptions=True
            )

    async def _start(
        self, turn: AgentTurn, args: Sequence[str], *, stdin: bool, env: Mapping[str, str] | None
    ) -> AgentProcess:
        """Start the CLI for `turn`, tracked under its session; AgentFailed with what to do when
        it cannot start."""
        cwd = turn.workdir or self.workdir
        self.counts["turns"] += 1
        try:
            proc = await AgentProcess.start(
                [*self.argv, *args],
                label=self.program,
                cwd=cwd,
                env=env,
                stdin=stdin,
                max_line_bytes=self.max_line_bytes,
                grace=self.grace,
            )
        except FileNotFoundError:
            self.counts["failed"] += 1
            if cwd is not None and not cwd.is_dir():
                raise AgentFailed(
                    f"cannot start {self.program}: its working directory {cwd} does not exist"
                ) from None
            raise AgentFailed(
                f"{self.program} is not installed or not on PATH: {self.install_hint}"
            ) from None
        except OSError as exc:
            self.counts["failed"] += 1
            raise AgentFailed(
                f"cannot start {self.program} ({self.argv[0]}): {exc.strerror or exc}"
            ) from None
        self._running.setdefault(turn.session_id, set()).add(proc)
        return proc

    async def _finish(
        self, turn: AgentTurn, proc: AgentProcess, *, polite: bool = True
    ) -> int | None:
        """End `proc` (see `AgentProcess.end`) and forget it. The ending goes on even if the
        caller is cancelled again meanwhile; `shutdown` waits for any such ending."""
        ending = asyncio.ensure_future(proc.end(polite=polite))
        self._endings.add(ending)
        ending.add_done_callback(self._endings.discard)
        try:
            return await asyncio.shield(ending)
        finally:
            procs = self._running.get(turn.session_id)
            if procs is not None:
                procs.discard(proc)
                if not procs:
                    del self._running[turn.session_id]

    def _noted(self, event: AgentEvent) -> AgentEvent:
        """`event`, counted and logged when it is a skip."""
        if isinstance(event, Skipped):
            self.counts["skipped"] += 1
            log.info("%s: skipped %s", self.program, event.what)
        return event

    def _oversized(self, line: Oversized) -> AgentEvent:
        self.counts["oversized"] += 1
        return self._noted(Skipped(f"a line of {line.size} bytes (over {self.max_line_bytes})"))

    def _failed(self, text: str) -> AgentFailed:
        """The error to raise for the CLI's own error text: the login sentence when the text
        says the CLI is not logged in."""
        self.counts["failed"] += 1
        lowered = text.lower()
        if any(marker in lowered for marker in self.auth_markers):
            return AgentFailed(f"{self.program} is not logged in: {self.login_hint}")
        return AgentFailed(text)

    def _crashed(self, proc: AgentProcess, code: int | None, seen: str = "") -> AgentFailed:
        """The process ended without finishing the turn: its status, and stderr's last lines
        (or the CLI's last error line on stdout) say why."""
        tail = proc.stderr_tail()
        why = tail or seen
        if any(marker in why.lower() for marker in self.auth_markers):
            return self._failed(why)
        if code is None:
            status = "closed its output"
        elif code < 0:
            status = f"was killed by {_signal_name(-code)}"
        else:
            status = f"exited with status {code}"
        text = f"{self.program} {status} before finishing its answer"
        return self._failed(f"{text}: {why}" if why else text)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def prompt_text(turn: AgentTurn) -> str:
    """The user's message, with the paths of the files uploaded with it (the agent reads them
    itself)."""
    if not turn.attachments:
        return turn.message
    listed = "\n".join(f"- {path}" for path in turn.attachments)
    return f"{turn.message}\n\nAttached files:\n{listed}"


def short(text: str, limit: int = MAX_TITLE) -> str:
    """One line of `text`, within `limit` characters."""
    lines = text.strip().splitlines()
    first = lines[0] if lines else ""
    if len(first) > limit or len(lines) > 1:
        return first[: limit - 1] + "…"
    return first


def shown_path(path: str, workdir: Path | None) -> str:
    """`path` relative to the working directory when it is inside it: titles stay short."""
    if workdir is None or not path:
        return path
    try:
        return os.path.relpath(path, workdir) if Path(path).is_relative_to(workdir) else path
    except ValueError:
        return path


def parse_line(line: str) -> dict[str, Any] | Skipped | None:
    """One stdout line as a JSON object; None for a blank line; Skipped for anything else (a
    debug line some builds print on stdout, a line cut short)."""
    text = line.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return Skipped(f"a line that is not JSON: {short(text, 120)}")
    if not isinstance(value, dict):
        return Skipped(f"a line that is not a JSON object: {short(text, 120)}")
    return value


def as_json(value: Any) -> str:
    """A tool's structured input or output as text (empty when there is none)."""
    if value is None or value == {} or value == []:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def token_counts(usage: Any) -> dict[str, int]:
    """The integer counts of a usage object (nested details and labels left out)."""
    if not isinstance(usage, dict):
        return {}
    return {
        key: value
        for key, value in usage.items()
        if isinstance(value, int) and not isinstance(value, bool)
    }
