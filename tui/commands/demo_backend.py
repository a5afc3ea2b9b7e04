"""Demo mode's backend: the bundled mock as a process of its own, one per data dir, started by
the first `builderos chat` or `send` that needs it and used by the next ones.

It outlives the app, as a real backend does: quit while the agent works, and the work goes on;
start again, and the reply resumes from the journal where it was (docs/chat.md). It stops by
itself once nobody has used it for IDLE_EXIT seconds (mock_backend.detached). The client side
only starts a process and reads files (localdata.backend_home): it imports none of the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import httpx

from localdata import backend_home
from localdata.private import private_dir, private_file
from tui.system.local_backend import BackendDidNotStart, StartBackend

LOG = backend_home.LOG_FILE
HOME = "demo-backend"
"""The backend's folder in the data dir: its database, uploads, lock, address and log."""
IDLE_EXIT = 60.0
"""Seconds the demo backend waits, with nobody connected and no agent at work, before it
stops by itself."""
START_WITHIN = 30.0
"""Seconds a new backend has to say it listens."""
STOP_WITHIN = 10.0
"""Seconds an old backend (other code) has to stop before a new one takes its place."""


@dataclass(frozen=True)
class DemoBackend:
    """The demo's backend process, as the app sees it (a `LocalBackend`)."""

    url: str
    token: str
    pid: int
    started: bool
    """This app started it (else it was running already)."""

    async def stop(self) -> None:
        """Nothing: it goes on with an agent's work after the app quits, and stops by itself
        once idle."""


def detached_mock(
    data_dir: Path, *, chunk_delay: float = 0.02, idle_exit: float = IDLE_EXIT
) -> StartBackend:
    """Demo mode's backend for this data dir: the one running, or a new one."""

    async def start() -> DemoBackend:
        return await asyncio.to_thread(reach, data_dir / HOME, chunk_delay, idle_exit)

    return start


def reach(home: Path, chunk_delay: float, idle_exit: float) -> DemoBackend:
    """The backend running in `home` if it answers and runs this code; else a new one."""
    private_dir(home)
    code = code_version()
    with backend_home.starting(home):
        running = _running(home)
        if running is not None:
            if running[1] == code:
                return running[0]
            _stop_old(home, running[0].pid)
        elif backend_home.running(home):  # stopping as we looked: let it finish
            _wait_stopped(home)
        return _spawn(home, code, chunk_delay, idle_exit)


def _running(home: Path) -> tuple[DemoBackend, str] | None:
    """The backend that holds `home` and says where it listens, with the code it runs."""
    said = backend_home.announced(home)
    if said is None or not backend_home.running(home):
        return None
    try:
        backend = DemoBackend(str(said["url"]), str(said["token"]), int(said["pid"]), False)
    except (KeyError, TypeError, ValueError):
        return None
    try:
        answer = httpx.get(
            f"{backend.url}/api/health", headers={"X-API-Key": backend.token}, timeout=5
        )
    except httpx.HTTPError:
        answer = None
    if answer is None or answer.status_code != 200:
        raise BackendDidNotStart(
            f"the demo backend (pid {backend.pid}) runs but does not answer at {backend.url}: "
            f"stop it (kill {backend.pid}) and start again (its log: {home / LOG})"
        )
    return backend, str(said.get("code", ""))


def _stop_old(home: Path, pid: int) -> None:
    """A backend running other code (builderos was updated): it stops, a new one starts."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    _wait_stopped(home)


def _wait_stopped(home: Path) -> None:
    until = time.monotonic() + STOP_WITHIN
    while backend_home.running(home):
        if time.monotonic() > until:
            raise BackendDidNotStart(
                f"the demo backend in {home} does not stop: see {home / backend_home.LOG_FILE}"
            )
        time.sleep(0.05)  # a stopping process: nothing to wait on but its lock


def _spawn(home: Path, code: str, chunk_delay: float, idle_exit: float) -> DemoBackend:
    """Start the backend in a session of its own (no terminal's hang-up reaches it), its
    settings on stdin, and read its one line: `ready`, or why not."""
    log_path = private_file(home / backend_home.LOG_FILE)
    token = secrets.token_urlsafe(24)
    settings = {
        "home": str(home),
        "token": token,
        "code": code,
        "chunk_delay": chunk_delay,
        "idle_exit": idle_exit,
    }
    with log_path.open("ab") as log:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "mock_backend.detached"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                close_fds=True,
                cwd=home,
            )
        except OSError as exc:
            raise BackendDidNotStart(f"cannot start {sys.executable}: {exc}") from None
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(json.dumps(settings).encode())
        process.stdin.close()
        line = _first_line(process, START_WITHIN)
    finally:
        process.stdout.close()
    if line != "ready":
        if process.poll() is None:
            process.kill()
        why = line or f"it ended (code {process.poll()}) without a word"
        raise BackendDidNotStart(f"{why}; see {log_path}")
    said = backend_home.announced(home) or {}
    return DemoBackend(str(said.get("url")), token, process.pid, True)


def _first_line(process: subprocess.Popen[bytes], within: float) -> str:
    """The process's first line on stdout, '' if it ends or takes longer than `within`."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(within):
            return ""
    return process.stdout.readline(4096).decode(errors="replace").strip()


def code_version() -> str:
    """Which code of the bundled mock is installed: its files' newest change (a backend that
    runs older code is replaced)."""
    spec = find_spec("mock_backend")
    places = list(spec.submodule_search_locations or []) if spec else []
    newest = 0
    for place in places:
        for path in Path(place).rglob("*.py"):
            newest = max(newest, path.stat().st_mtime_ns)
    return str(newest)
