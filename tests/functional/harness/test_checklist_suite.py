"""Checklist scenarios drive the real app; against a URL without --restart-cmd the ones that
restart the backend are skipped with the reason, never passed."""

from __future__ import annotations

from dataclasses import replace

from harness.runner import run_all
from harness.suites import all_scenarios
from harness.target import BundledMock, RemoteBackend
from mock_backend import MockBackend
from tests.conftest import TOKEN

BY_NAME = {s.name: s for s in all_scenarios()}


async def test_scenarios_that_restart_the_backend_pass_on_the_bundled_mock(
    bundled: BundledMock,
) -> None:
    chosen = [BY_NAME[n] for n in ("build-succeeds", "message-typed-while-down-is-delivered")]
    results = await run_all(chosen, bundled)
    assert [(r.status, r.message) for r in results] == [("passed", "")] * 2


async def test_restart_scenarios_skip_with_the_reason_against_a_url(backend: MockBackend) -> None:
    target = RemoteBackend(backend.url, TOKEN, restart_cmd=None)
    restarting = ["disconnect-reconnect-restores-session", "message-typed-while-down-is-delivered"]
    try:
        results = await run_all([BY_NAME[n] for n in restarting], target)
    finally:
        await target.close()
    assert [r.status for r in results] == ["skipped", "skipped"]
    assert all("--restart-cmd" in r.message for r in results)


async def test_a_refused_token_fails_the_scenario_saying_so(backend: MockBackend) -> None:
    target = RemoteBackend(backend.url, "wrong-token", restart_cmd=None)
    try:
        (result,) = await run_all([BY_NAME["connect"]], target)
    finally:
        await target.close()
    assert result.status == "failed"
    assert "did not connect" in result.message and "token" in result.message.lower()


class ForgetfulMock(BundledMock):
    """Restarts on an empty database: sessions do not survive, as the seeds promise they do."""

    async def restart(self, while_down: object = None) -> None:
        self.config = replace(self.config, db_path=self.config.db_path.with_name("empty.db"))
        await super().restart(while_down)  # type: ignore[arg-type]


async def test_a_backend_that_forgets_on_restart_fails_the_reconnect_item() -> None:
    target = ForgetfulMock()
    await target.ready(limit=0)
    try:
        (result,) = await run_all([BY_NAME["disconnect-reconnect-restores-session"]], target)
    finally:
        await target.close()
    assert result.status == "failed"
    assert result.message.startswith("after the reconnect the reply was:")
