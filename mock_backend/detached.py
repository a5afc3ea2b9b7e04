"""The demo's backend as a process of its own (`python -m mock_backend.detached`).

`builderos chat` and `send` with no backend configured start it (tui.commands.demo_backend), or
use the one already running for their data dir. Like a real backend it outlives the app: an
agent at work when the user quits goes on working, and the app, started again, resumes its
reply from the journal. Once nobody is connected and no agent works (`MockBackend.idle`) for
`idle_exit` seconds, it stops by itself.

Its settings (the token among them: never on a command line, which every local user can read)
come as one JSON object on stdin; it says `ready` (or why not) in one line on stdout, and how
the two find each other is localdata.backend_home.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdata import backend_home
from localdata.private import private_dir, private_file
from mock_backend.config import MockConfig
from mock_backend.server import MockBackend, StartError

log = logging.getLogger("mock_backend.detached")

LOG_KEPT = 1_000_000
"""Bytes of the log kept from earlier runs (a longer one starts again empty)."""
IDLE_CHECK = 1.0
"""Seconds between two looks at whether anyone is there."""


@dataclass(frozen=True)
class DetachedSettings:
    home: Path
    """The data dir's `demo-backend/`: its database, uploads, lock, announcement and log."""
    token: str
    code: str = ""
    """What code the starter runs (it starts a new backend when it differs)."""
    chunk_delay: float = 0.02
    idle_exit: float = 60.0
    approvals: str = "ask"

    @classmethod
    def parse(cls, raw: Any) -> DetachedSettings:
        if not isinstance(raw, dict) or not isinstance(raw.get("token"), str) or "home" not in raw:
            raise ValueError("expected a JSON object with a home and a token")
        return cls(
            home=Path(str(raw["home"])),
            token=raw["token"],
            code=str(raw.get("code", "")),
            chunk_delay=float(raw.get("chunk_delay", 0.02)),
            idle_exit=float(raw.get("idle_exit", 60.0)),
            approvals=str(raw.get("approvals", "ask")),
        )


async def serve(settings: DetachedSettings, say: Callable[[str], None]) -> int:
    """Serve until idle long enough, or told to stop; `say` the one line the starter reads."""
    home = settings.home
    claim = backend_home.hold(home)
    if claim is None:
        say("busy: another demo backend runs for this data dir")
        return 1
    backend = MockBackend(
        MockConfig(
            port=0,
            token=settings.token,
            db_path=home / "sessions.db",
            chunk_delay=settings.chunk_delay,
            approvals=settings.approvals,
        )
    )
    try:
        await backend.start()
    except StartError as exc:
        say(f"failed: {exc}")
        claim.close()
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    try:
        backend_home.announce(
            home,
            {"pid": os.getpid(), "url": backend.url, "token": backend.token, "code": settings.code},
        )
        say("ready")
        log.info("demo backend on %s, pid %d", backend.url, os.getpid())
        idle_since: float | None = None
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), IDLE_CHECK)
            now = time.monotonic()
            if not backend.idle():
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= settings.idle_exit:
                log.info("nobody here for %.0f s and no agent at work: stopping", now - idle_since)
                break
    finally:
        backend_home.withdraw(home)
        await backend.stop()
        claim.close()
    return 0


def _log_to(home: Path) -> None:
    path = private_file(home / backend_home.LOG_FILE)
    if path.stat().st_size > LOG_KEPT:
        path.write_text("", encoding="utf-8")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def main() -> int:
    def say(line: str) -> None:
        """The one line the starter reads: stdout is its pipe, let go of afterwards."""
        with contextlib.suppress(OSError):
            print(line, flush=True)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

    try:
        settings = DetachedSettings.parse(json.loads(sys.stdin.read()))
        private_dir(settings.home)
        _log_to(settings.home)
    except (ValueError, TypeError, OSError) as exc:
        say(f"failed: {exc}")
        return 2
    return asyncio.run(serve(settings, say))


if __name__ == "__main__":
    sys.exit(main())
