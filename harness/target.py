"""The backend a check runs against: the bundled mock in-process, or any URL.

Scenarios that stop or restart the backend ask the target; the bundled mock is restarted on the
same port and database, a URL target runs `--restart-cmd`, and without one such scenarios are
skipped with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from harness.outcome import Failed, Skipped
from harness.timing import scaled
from mock_backend.config import MockConfig
from mock_backend.server import MockBackend, StartError
from tui.client.frames import normalise_base_url

WhileDown = Callable[[], Awaitable[None]]

RESTART_LIMIT = 60.0
"""Seconds a restart (the command, then the health check) may take."""
REQUEST_LIMIT = scaled(30.0)
"""Seconds one HTTP call may take, its whole answer included (httpx's own timeout restarts on
every byte: a body trickling a byte a second would hold a check forever)."""
ANSWER_MAX_BYTES = 64 * 1024 * 1024
"""An answer is read up to this; a backend that sends more fails the check that asked."""


class Target:
    """What every scenario may use: where the backend is, its token, a way to restart it and a
    few HTTP calls that answer "what does the backend say now"."""

    label: str
    restart_unavailable: str | None = None
    """Why this target cannot be restarted (None: it can)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = normalise_base_url(url)
        self.token = token
        self.http = httpx.AsyncClient(timeout=10.0)

    async def ready(self, limit: float) -> None:
        """Make sure the backend is there before anything runs."""
        await self.wait_healthy(limit)

    async def close(self) -> None:
        await self.http.aclose()

    def require_restart(self) -> None:
        if self.restart_unavailable:
            raise Skipped(self.restart_unavailable)

    async def restart(self, while_down: WhileDown | None = None) -> None:
        """Stop and start the backend (same database); `while_down` runs in between."""
        raise NotImplementedError

    async def wait_healthy(self, limit: float = RESTART_LIMIT) -> None:
        deadline = time.monotonic() + limit
        while True:
            left = max(0.1, min(REQUEST_LIMIT, deadline - time.monotonic()))
            with contextlib.suppress(httpx.HTTPError, TimeoutError):
                async with (
                    asyncio.timeout(left),
                    self.http.stream("GET", self.url + "/api/health") as answer,
                ):
                    if answer.status_code == 200:  # the status is enough: the body is not read
                        return
            if time.monotonic() > deadline:
                raise Failed(
                    f"the backend at {self.url} did not answer /api/health after {limit:.0f} s"
                )
            await asyncio.sleep(0.1)  # polling a server that is starting: nothing to await

    # what the backend says --------------------------------------------------------------------

    async def json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Status and JSON body (None when the body is not JSON), within `REQUEST_LIMIT`
        seconds and `ANSWER_MAX_BYTES`; a backend that exceeds either fails the check."""
        url = self.url + path
        try:
            async with (
                asyncio.timeout(REQUEST_LIMIT),
                self.http.stream(method, url, **kwargs) as response,
            ):
                raw = bytearray()
                async for chunk in response.aiter_bytes():
                    raw += chunk
                    if len(raw) > ANSWER_MAX_BYTES:
                        raise Failed(
                            f"{method} {url}: the answer is over {ANSWER_MAX_BYTES:,} bytes"
                        )
                status = response.status_code
        except TimeoutError:
            raise Failed(f"{method} {url}: no complete answer within {REQUEST_LIMIT:g} s") from None
        except Failed:
            raise
        except Exception as exc:  # httpx raises more than HTTPError for odd input
            raise Failed(f"{method} {path}: no answer ({exc.__class__.__name__}: {exc})") from None
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        return status, body

    async def features(self) -> dict[str, Any]:
        """What `/api/status` says the backend offers (empty if it says nothing)."""
        status, body = await self.json("GET", "/api/status", headers={"X-API-Key": self.token})
        features = body.get("features") if status == 200 and isinstance(body, dict) else None
        return features if isinstance(features, dict) else {}

    async def sessions(self) -> dict[str, dict[str, Any]]:
        """The sessions `/api/sessions` lists, by id."""
        status, body = await self.json("GET", "/api/sessions")
        well_formed = isinstance(body, dict) and isinstance(body.get("sessions"), list)
        if status != 200 or not well_formed:
            raise Failed(f"GET /api/sessions answered {status} {str(body)[:200]}")
        return {str(s.get("session_id")): s for s in body["sessions"] if isinstance(s, dict)}

    async def close_session(
        self, provider: str, session_id: str, token: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": self.token if token is None else token}
        return await self.json(
            "DELETE", f"/api/{provider}/session/{quote(session_id, safe='')}/close", headers=headers
        )


class BundledMock(Target):
    """The mock backend in this process: a free port, a fresh database, no pacing."""

    label = "bundled mock backend"

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="builderos-check-")
        root = Path(self._dir.name)
        self.config = MockConfig(
            port=0,
            token="check-token",
            db_path=root / "sessions.db",
            uploads_dir=root / "uploads",
            chunk_delay=0,
        )
        self.backend = MockBackend(self.config)
        super().__init__("http://127.0.0.1:0", self.config.token)  # the port is known at start

    async def ready(self, limit: float) -> None:
        """Start it; a restart reuses the port it got."""
        try:
            await self.backend.start()
        except StartError as exc:
            raise Failed(f"the bundled mock backend did not start: {exc}") from None
        self.url = self.backend.url
        self.config = replace(self.config, port=self.backend.port)

    async def restart(self, while_down: WhileDown | None = None) -> None:
        await self.backend.stop()
        if while_down is not None:
            await while_down()
        self.backend = MockBackend(self.config)
        try:
            await self.backend.start()
        except StartError as exc:
            raise Failed(f"the bundled mock backend did not start again: {exc}") from None

    async def close(self) -> None:
        await self.backend.stop()
        await super().close()
        self._dir.cleanup()


class RemoteBackend(Target):
    """A backend at a URL; restarted by a shell command when one is given."""

    def __init__(self, url: str, token: str, restart_cmd: str | None) -> None:
        super().__init__(url, token)
        self.label = self.url
        self.restart_cmd = restart_cmd
        if not restart_cmd:
            self.restart_unavailable = (
                "needs the backend restarted: give --restart-cmd to run this against --url"
            )

    async def restart(self, while_down: WhileDown | None = None) -> None:
        """Run the command; `while_down` runs alongside it (it waits for the drop itself)."""
        assert self.restart_cmd
        process = await asyncio.create_subprocess_shell(
            self.restart_cmd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(RESTART_LIMIT):
                if while_down is not None:
                    await while_down()
                _, stderr = await process.communicate()
        except TimeoutError:
            process.kill()
            raise Failed(f"--restart-cmd did not finish within {RESTART_LIMIT:.0f} s") from None
        if process.returncode != 0:
            tail = stderr.decode(errors="replace").strip()[-300:]
            raise Failed(f"--restart-cmd exited with {process.returncode}: {tail}")
        await self.wait_healthy()
