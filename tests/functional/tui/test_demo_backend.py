"""Demo mode's backend, a process of its own (tui.commands.demo_backend): shared by the apps of
one data dir, outliving them (a question asked when the app quits is asked again after the
restart, the agent's work goes on), stopping by itself once idle, replaced when the code changed,
and saying why when it cannot start."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness.timing import scaled
from localdata import backend_home
from tests.functional.tui.apphelpers import make_app, started, type_and_send
from tests.functional.tui.test_agent_at_work import asked
from tui.commands.demo_backend import HOME, DemoBackend, detached_mock, reach
from tui.system.local_backend import BackendDidNotStart


async def gone(home: Path) -> None:
    """Until the backend of `home` has ended (its lock is free: the kernel frees it at exit)."""

    def wait() -> None:
        with (home / backend_home.LOCK_FILE).open("a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)

    await asyncio.wait_for(asyncio.to_thread(wait), scaled(20))


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Path]:
    """The demo backend's folder; whatever backend runs there is stopped after the test."""
    yield tmp_path / HOME
    said = backend_home.announced(tmp_path / HOME)
    if said is not None:
        with contextlib.suppress(OSError):
            os.kill(int(said["pid"]), signal.SIGTERM)
        await gone(tmp_path / HOME)


async def test_one_backend_serves_the_apps_of_a_data_dir_and_outlives_them(
    tmp_path: Path, home: Path
) -> None:
    start = detached_mock(tmp_path)
    first = await start()
    assert isinstance(first, DemoBackend) and first.started
    again = await start()
    assert isinstance(again, DemoBackend)
    assert (again.pid, again.url, again.started) == (first.pid, first.url, False)
    for name in (backend_home.ANNOUNCE_FILE, backend_home.LOG_FILE, "sessions.db"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(home.stat().st_mode) == 0o700

    app = make_app(tmp_path, None, start_backend=start)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await type_and_send(pilot, "/approve")
        await asked(pilot, "Run ls -la")
    # the app quit with the question open: the backend, still there, asks again
    app = make_app(tmp_path, None, start_backend=start)
    async with app.run_test(size=(80, 24)) as pilot:
        watch = await started(pilot)
        await asked(pilot, "Run ls -la")
        await pilot.press("y")
        assert app.workspace is not None
        tab = app.workspace.selected
        await watch.until(
            lambda: tab.live is None and tab.messages[-1].status == "complete", limit=30
        )
        assert [i.status for i in tab.messages[-1].activity.items] == ["completed"]
    assert backend_home.announced(home) is not None, "still running after the app quit"


async def test_it_stops_by_itself_once_nobody_is_there(tmp_path: Path, home: Path) -> None:
    backend = await detached_mock(tmp_path, idle_exit=0.2)()
    assert isinstance(backend, DemoBackend)
    await gone(home)
    assert backend_home.announced(home) is None
    assert "no agent at work: stopping" in (home / backend_home.LOG_FILE).read_text()


async def test_a_backend_running_other_code_is_replaced(tmp_path: Path, home: Path) -> None:
    old = await detached_mock(tmp_path)()
    said = backend_home.announced(home)
    assert said is not None
    backend_home.announce(home, {**said, "code": "an older version"})
    new = await detached_mock(tmp_path)()
    assert isinstance(old, DemoBackend) and isinstance(new, DemoBackend)
    assert new.started and new.pid != old.pid


async def test_a_backend_that_cannot_start_says_why(tmp_path: Path, home: Path) -> None:
    (home / "sessions.db").mkdir(parents=True)  # where its database would be
    with pytest.raises(BackendDidNotStart, match=r"sessions\.db"):
        await asyncio.to_thread(reach, home, 0.0, 60.0)
    assert backend_home.announced(home) is None
