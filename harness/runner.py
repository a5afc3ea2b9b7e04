"""Running scenarios one after another against a target, each under a time limit, and turning
whatever happens into a result (a crash in a scenario is a failure with its cause, not a
traceback for the user)."""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from harness.outcome import Failed, Skipped
from harness.scenario import Scenario
from harness.target import Target

Status = Literal["passed", "failed", "skipped"]
SCENARIO_LIMIT = 120.0


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    status: Status
    seconds: float
    message: str = ""
    detail: str = ""
    """A traceback, when the scenario crashed rather than failed a check."""


async def run_one(scenario: Scenario, target: Target, limit: float = SCENARIO_LIMIT) -> Result:
    started = time.perf_counter()

    def result(status: Status, message: str = "", detail: str = "") -> Result:
        return Result(scenario, status, time.perf_counter() - started, message, detail)

    limit = max(limit, scenario.limit or 0)
    try:
        async with asyncio.timeout(limit):
            note = await scenario.run(target)
    except Failed as exc:
        return result("failed", str(exc))
    except Skipped as exc:
        return result("skipped", str(exc))
    except TimeoutError:
        return result("failed", f"did not finish within {limit:.0f} s")
    except Exception as exc:
        return result("failed", f"crashed: {type(exc).__name__}: {exc}", traceback.format_exc())
    return result("passed", note or "")


async def run_all(
    scenarios: list[Scenario],
    target: Target,
    *,
    stop_at_failure: bool = False,
    starting: Callable[[Scenario], None] = lambda s: None,
    finished: Callable[[Result], None] = lambda r: None,
) -> list[Result]:
    results: list[Result] = []
    for scenario in scenarios:
        starting(scenario)
        outcome = await run_one(scenario, target)
        results.append(outcome)
        finished(outcome)
        if stop_at_failure and outcome.status == "failed":
            break
    return results
