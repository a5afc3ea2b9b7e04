"""Run a real BridgeHub-compatible program per message: `COMMAND --request '<json>'`.

Fixes what broke the reference adapter: a payload line over asyncio's 64 KiB line limit
(lines are split here, up to `max_line_bytes`), a stderr that fills its pipe and stalls the
child (stderr is drained concurrently), a child that hangs (a deadline, then the whole process
group is killed), a non-zero exit, and payloads that are not what they should be.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
from typing import Any

from mock_backend.bridgehub.protocol import PAYLOAD_PREFIX, BridgeHubError, answer_from_payload

log = logging.getLogger(__name__)

_READ_SIZE = 64 * 1024
_PREFIX = PAYLOAD_PREFIX.encode()


class CommandBridgeHub:
    def __init__(
        self, command: str, *, timeout: float = 600.0, max_line_bytes: int = 16 * 1024 * 1024
    ) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise ValueError("the BridgeHub command is empty")
        self.timeout = timeout
        self.max_line_bytes = max_line_bytes

    def health(self) -> dict[str, Any]:
        found = shutil.which(self.argv[0]) is not None
        return {"ready": found, "mode": "command", "command": self.argv[0]}

    async def ask(self, request: dict[str, Any]) -> str:
        argv = [*self.argv, "--request", json.dumps(request)]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise BridgeHubError(
                f"cannot start BridgeHub ({self.argv[0]}): {exc.strerror or exc}"
            ) from None
        assert proc.stdout is not None and proc.stderr is not None
        readers = (
            asyncio.create_task(self._payload(proc.stdout)),
            asyncio.create_task(_tail(proc.stderr)),
        )
        try:
            async with asyncio.timeout(self.timeout):
                payload, stderr_tail = await asyncio.gather(*readers)
                code = await proc.wait()
        except TimeoutError:
            raise BridgeHubError(f"BridgeHub did not answer within {self.timeout:g} s") from None
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            await _kill(proc)
        if code != 0:
            hint = f": {stderr_tail}" if stderr_tail else ""
            raise BridgeHubError(f"BridgeHub exited with status {code}{hint}")
        if payload is None:
            raise BridgeHubError("BridgeHub printed no JARVIS_PAYLOAD line")
        return answer_from_payload(payload)

    async def _payload(self, stream: asyncio.StreamReader) -> str | None:
        """The last `JARVIS_PAYLOAD=` line on stdout; other lines are logged and dropped."""
        payload: str | None = None
        line = bytearray()
        while chunk := await stream.read(_READ_SIZE):
            *complete, rest = chunk.split(b"\n")
            for piece in complete:
                line += piece
                self._check_size(line)
                payload = _take(bytes(line), payload)
                line.clear()
            line += rest
            self._check_size(line)
        return _take(bytes(line), payload)

    def _check_size(self, line: bytearray) -> None:
        if len(line) <= self.max_line_bytes:
            return
        if line.startswith(_PREFIX):
            raise BridgeHubError(
                f"BridgeHub printed a payload line over {self.max_line_bytes} bytes"
            )
        line.clear()  # an over-long log line: not worth keeping


def _take(line: bytes, payload: str | None) -> str | None:
    text = line.decode("utf-8", "replace").rstrip("\r")
    if text.startswith(PAYLOAD_PREFIX):
        return text[len(PAYLOAD_PREFIX) :]
    if text:
        log.debug("bridgehub: %s", text[:500])
    return payload


async def _tail(stream: asyncio.StreamReader, keep: int = 2000) -> str:
    """Drain stderr so a chatty child never blocks on a full pipe; keep its last line."""
    tail = b""
    while chunk := await stream.read(_READ_SIZE):
        tail = (tail + chunk)[-keep:]
    lines = [ln for ln in tail.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1].strip()[:300] if lines else ""


async def _kill(proc: asyncio.subprocess.Process, grace: float = 5.0) -> None:
    """Kill the child's whole process group (BridgeHub starts agents of its own) and reap it.

    `Process.wait()` returns only once every pipe reaches EOF, and asyncio stops reading a pipe
    whose buffer is full: so the pipes are drained here, or a flooding child would never be
    reaped.
    """
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    try:
        async with asyncio.timeout(grace):
            await asyncio.gather(_drain(proc.stdout), _drain(proc.stderr))
            await proc.wait()
    except TimeoutError:
        log.warning("BridgeHub process %d still holds its pipes after being killed", proc.pid)


async def _drain(stream: asyncio.StreamReader | None) -> None:
    if stream is not None:
        while await stream.read(_READ_SIZE):
            pass
