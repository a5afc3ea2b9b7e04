"""One agent CLI as a child process: what Claude Code and Codex share.

The child runs in a process group of its own (agents start shells, test runners, servers), so
ending it ends everything it started. Its stdout is read line by line with a size cap: a huge
line (a tool printing a whole file on one line) is skipped and counted, never fatal, and never
held in memory whole. Its stderr is drained as it comes (a child blocked on a full pipe would
hang the turn) and only its tail is kept, for error messages. Ending it is polite first: stdin
closed, then SIGINT, SIGTERM and SIGKILL to the group after short graces; it is always reaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from asyncio.subprocess import SubprocessStreamProtocol
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 8 * 1024 * 1024
"""Bytes of one stdout line kept; a longer line is skipped (an agent's events are far smaller)."""
STDERR_KEEP = 4096
"""Bytes of stderr kept (its end: where a crash says why)."""
_READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class Oversized:
    """A stdout line over the cap, skipped: only its size is known."""

    size: int


class _Protocol(SubprocessStreamProtocol):
    """asyncio's own protocol, plus an event for the child's exit alone: `Process.wait()` also
    waits for every pipe to close, which a grandchild holding stdout can put off forever."""

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=limit, loop=loop)
        self.exited = asyncio.Event()

    def process_exited(self) -> None:
        super().process_exited()
        self.exited.set()


class AgentProcess:
    """A started agent child. `readline`/`write_line` while it works; `end` once, from anywhere
    (the turn's `finally`, a session close, shutdown): every caller awaits the same ending."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        protocol: _Protocol,
        *,
        label: str,
        max_line_bytes: int,
        grace: float,
    ) -> None:
        self._proc = proc
        self._protocol = protocol
        self.label = label
        self.max_line_bytes = max_line_bytes
        self.grace = grace
        self.pid = proc.pid
        self.oversized = 0
        """Lines skipped for their size."""
        self._buf = bytearray()
        self._scanned = 0
        self._discarded = 0
        """Bytes of an over-long line thrown away so far (0: not inside one)."""
        self._eof = False
        self._reader_idle = asyncio.Event()
        self._reader_idle.set()
        self._stderr = bytearray()
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        self._ending: asyncio.Future[int | None] | None = None

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        label: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bool = True,
        max_line_bytes: int = MAX_LINE_BYTES,
        grace: float = 3.0,
    ) -> AgentProcess:
        """Start `argv` in a new session (so a process group of its own). Raises OSError as
        `create_subprocess_exec` does (FileNotFoundError: no such program or directory)."""
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.subprocess_exec(
            lambda: _Protocol(limit=_READ_SIZE, loop=loop),
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        proc = asyncio.subprocess.Process(transport, protocol, loop)
        return cls(proc, protocol, label=label, max_line_bytes=max_line_bytes, grace=grace)

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    @property
    def ending(self) -> bool:
        """`end` was called: output that stops now is not a crash."""
        return self._ending is not None

    async def readline(self) -> str | Oversized | None:
        """The next stdout line without its newline; `Oversized` for a line over the cap; None
        at EOF, or once `end` was called. Safe to cancel: nothing read is lost."""
        if self.ending:
            return None
        self._reader_idle.clear()
        try:
            return await self._readline()
        finally:
            self._reader_idle.set()

    async def _readline(self) -> str | Oversized | None:
        stdout = self._proc.stdout
        assert stdout is not None
        while True:
            newline = self._buf.find(b"\n", self._scanned)
            if newline >= 0:
                raw = bytes(self._buf[:newline])
                del self._buf[: newline + 1]
                self._scanned = 0
                return self._line(raw)
            self._scanned = len(self._buf)
            if len(self._buf) > self.max_line_bytes:
                self._discarded += len(self._buf)
                self._buf.clear()
                self._scanned = 0
            if self._eof:
                if self._buf or self._discarded:
                    raw = bytes(self._buf)
                    self._buf.clear()
                    self._scanned = 0
                    return self._line(raw)
                return None
            chunk = await stdout.read(_READ_SIZE)
            if chunk:
                self._buf += chunk
            else:
                self._eof = True

    def _line(self, raw: bytes) -> str | Oversized:
        size = self._discarded + len(raw)
        self._discarded = 0
        if size > self.max_line_bytes:
            self.oversized += 1
            log.info("%s: skipped a stdout line of %d bytes", self.label, size)
            return Oversized(size)
        return raw.decode("utf-8", "replace").rstrip("\r")

    async def write_line(self, text: str) -> bool:
        """Write one line to stdin and wait until the pipe took it; False if the child no
        longer reads (it exited, or stdin is closed): its output then says why."""
        if not self.write_line_nowait(text):
            return False
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def write_line_nowait(self, text: str) -> bool:
        """Queue one line for stdin without waiting (for a `finally`, where a child that does
        not read must not hold the caller)."""
        stdin = self._proc.stdin
        if stdin is None or stdin.is_closing():
            return False
        try:
            stdin.write(text.encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            return False
        return True

    def stderr_tail(self, limit: int = 600) -> str:
        """The last lines of stderr, within `limit` characters, for an error message."""
        lines = [ln.strip() for ln in self._stderr.decode("utf-8", "replace").splitlines()]
        lines = [ln for ln in lines if ln]
        text = "; ".join(lines[-5:])
        return text if len(text) <= limit else "…" + text[-(limit - 1) :]

    async def _drain_stderr(self) -> None:
        stderr = self._proc.stderr
        assert stderr is not None
        while chunk := await stderr.read(_READ_SIZE):
            self._stderr += chunk
            if len(self._stderr) > STDERR_KEEP:
                del self._stderr[:-STDERR_KEEP]

    async def end(self, *, polite: bool = True) -> int | None:
        """End the child and its group and reap it; its exit status (None if it could not be
        reaped). `polite`: first let it exit by itself (at EOF on stdin, or because its turn is
        over) for one grace. Idempotent, and shielded: a second cancellation does not leave
        it half done."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end(polite))
        return await asyncio.shield(self._ending)

    async def wait_exit(self, within: float | None = None) -> bool:
        """Whether the child itself exited (its pipes may still be open), waiting up to
        `within` seconds for it."""
        if not self._protocol.exited.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self._protocol.exited.wait()
        return self._protocol.exited.is_set()

    async def _end(self, polite: bool) -> int | None:
        drain = asyncio.create_task(self._drain_stdout())
        try:
            stdin = self._proc.stdin
            if stdin is not None and not stdin.is_closing():
                stdin.close()  # an agent reading its stdin ends at EOF
            if polite:
                await self.wait_exit(self.grace)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
                if self._protocol.exited.is_set():
                    break
                self._signal(sig)
                await self.wait_exit(self.grace)
            # What the child started and left behind (a background command) goes with it.
            self._signal(signal.SIGKILL)
            try:
                async with asyncio.timeout(self.grace):
                    await self._proc.wait()
            except TimeoutError:
                log.warning("%s (pid %d) still holds its pipes", self.label, self.pid)
        finally:
            for task in (drain, self._stderr_task):
                task.cancel()
            await asyncio.gather(drain, self._stderr_task, return_exceptions=True)
        return self._proc.returncode

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    async def _drain_stdout(self) -> None:
        """Read and drop what is left: asyncio stops reading a full pipe, and then never sees
        the EOF that `Process.wait()` waits for."""
        stdout = self._proc.stdout
        assert stdout is not None
        await self._reader_idle.wait()  # a turn still in `readline` reads until it returns
        self._buf.clear()
        while await stdout.read(_READ_SIZE):
            pass
