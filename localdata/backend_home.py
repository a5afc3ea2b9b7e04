"""A backend process of its own, in a folder of the data dir (demo mode's): the files by which
it and the apps that use it find each other. Shared by the process (mock_backend.detached) and
its starter (tui.commands.demo_backend), which imports none of the server.

- `backend.lock`: an advisory lock the backend holds for its life; the kernel lets it go however
  the process ends, so a lock that can be taken means no backend runs.
- `backend.json` (0600): where it listens, its token, its pid and the code it runs; written
  whole once it listens, removed when it stops.
- `backend.log` (0600): what it logged.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from localdata.private import private_file

LOCK_FILE = "backend.lock"
ANNOUNCE_FILE = "backend.json"
LOG_FILE = "backend.log"
START_LOCK_FILE = "start.lock"


def hold(home: Path) -> IO[str] | None:
    """The backend's claim on `home`, kept open for its life; None if another holds it."""
    handle = private_file(home / LOCK_FILE).open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def running(home: Path) -> bool:
    """A backend holds `home` now (it may be starting or stopping)."""
    claim = hold(home)
    if claim is None:
        return True
    claim.close()
    return False


@contextlib.contextmanager
def starting(home: Path) -> Iterator[None]:
    """Held by whoever looks for a backend and starts one if none runs: two apps started at
    once take turns, so they share one backend."""
    with private_file(home / START_LOCK_FILE).open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def announce(home: Path, value: dict[str, Any]) -> None:
    """Write `backend.json` whole or not at all (a reader never sees half), 0600."""
    partial = private_file(home / f"{ANNOUNCE_FILE}.partial")
    partial.write_text(json.dumps(value), encoding="utf-8")
    partial.replace(home / ANNOUNCE_FILE)


def announced(home: Path) -> dict[str, Any] | None:
    """What the backend wrote about itself; None if nothing (readable) is there."""
    try:
        value = json.loads((home / ANNOUNCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def withdraw(home: Path) -> None:
    with contextlib.suppress(OSError):
        (home / ANNOUNCE_FILE).unlink()
