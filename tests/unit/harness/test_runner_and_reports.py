"""Whatever a scenario does becomes a result; results become JUnit XML and JSON."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import report
from harness.outcome import Failed, Skipped, check
from harness.runner import run_all, run_one
from harness.scenario import Scenario
from harness.target import Target


def scenario(name: str, body: object, suite: str = "contract") -> Scenario:
    async def run(target: Target) -> None:
        """Quoted item.

        What it checks, in more words."""
        if isinstance(body, BaseException):
            raise body
        if body == "hang":
            await asyncio.Event().wait()

    return Scenario(name, suite, run, "a test")  # type: ignore[arg-type]


TARGET = object()  # the scenarios here never touch it


async def test_each_outcome_becomes_a_result() -> None:
    results = await run_all(
        [
            scenario("fine", None),
            scenario("broken", Failed("expected 404, got 200")),
            scenario("not-here", Skipped("needs --restart-cmd")),
            scenario("crash", KeyError("boom")),
        ],
        TARGET,  # type: ignore[arg-type]
    )
    got = [(r.scenario.name, r.status, r.message) for r in results]
    assert got == [
        ("fine", "passed", ""),
        ("broken", "failed", "expected 404, got 200"),
        ("not-here", "skipped", "needs --restart-cmd"),
        ("crash", "failed", "crashed: KeyError: 'boom'"),
    ]
    assert "Traceback" in results[3].detail


async def test_a_scenario_past_its_limit_fails() -> None:
    result = await run_one(scenario("slow", "hang"), TARGET, limit=0.05)  # type: ignore[arg-type]
    assert result.status == "failed" and "within 0 s" in result.message


async def test_stop_at_the_first_failure() -> None:
    results = await run_all(
        [scenario("a", Failed("no")), scenario("b", None)],
        TARGET,  # type: ignore[arg-type]
        stop_at_failure=True,
    )
    assert [r.scenario.name for r in results] == ["a"]


def test_check_raises_with_the_message() -> None:
    check(True, "unused")
    try:
        check(0, "what went wrong")
    except Failed as exc:
        assert str(exc) == "what went wrong"
    else:
        raise AssertionError("check(0) did not fail")


async def test_junit_lists_every_scenario_with_failures_and_skips(tmp_path: Path) -> None:
    results = await run_all(
        [
            scenario("fine", None, "checklist"),
            scenario("broken", Failed("expected 404, got 200")),
            scenario("not-here", Skipped("needs --restart-cmd")),
        ],
        TARGET,  # type: ignore[arg-type]
    )
    path = tmp_path / "reports" / "out.xml"
    report.write_junit(path, results, "http://backend")
    root = ET.parse(path).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"checklist", "contract"}
    assert suites["contract"].get("failures") == "1" and suites["contract"].get("skipped") == "1"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"fine", "broken", "not-here"}
    failure = cases["broken"].find("failure")
    assert failure is not None and failure.get("message") == "expected 404, got 200"
    skipped = cases["not-here"].find("skipped")
    assert skipped is not None and skipped.get("message") == "needs --restart-cmd"
    assert cases["fine"].find("failure") is None and cases["fine"].find("skipped") is None


async def test_json_report(tmp_path: Path) -> None:
    results = await run_all([scenario("broken", Failed("no"))], TARGET)  # type: ignore[arg-type]
    path = tmp_path / "out.json"
    report.write_json(path, results, "bundled mock backend", 1.5)
    document = json.loads(path.read_text())
    assert document["totals"] == {"passed": 0, "failed": 1, "skipped": 0}
    (entry,) = document["results"]
    assert entry["name"] == "broken" and entry["status"] == "failed" and entry["message"] == "no"
    assert entry["checks"].startswith("Quoted item.")
