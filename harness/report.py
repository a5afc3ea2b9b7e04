"""What a run tells its reader: a live line per scenario, a summary table, JUnit XML for CI and
JSON for anything else."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from harness.runner import Result
from harness.scenario import SUITES, Scenario

MARKS = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "skipped": "[yellow]–[/]"}


def scenario_list(scenarios: list[Scenario]) -> str:
    """Names, where each comes from and what it checks (rich markup, one block per suite)."""
    lines: list[str] = []
    for suite in SUITES:
        mine = [s for s in scenarios if s.suite == suite]
        if not mine:
            continue
        lines.append(f"[bold]{suite}[/] ({len(mine)} scenarios)")
        for s in mine:
            lines.append(f"  [bold cyan]{s.name}[/]  [dim]{escape(s.source)}[/]")
            lines += [f"      {escape(line)}" if line else "" for line in s.doc.splitlines()]
        lines.append("")
    return "\n".join(lines)


def progress_line(result: Result) -> str:
    s = result.scenario
    line = f"{MARKS[result.status]} {s.suite:<10} {s.name:<42} {result.seconds:6.2f} s"
    if result.message:
        colour = {"failed": "red", "skipped": "yellow"}.get(result.status, "green")
        line += f"\n    [{colour}]{escape(result.message)}[/]"
    return line


def totals(results: list[Result]) -> Counter[str]:
    return Counter(r.status for r in results)


def summary(results: list[Result], seconds: float, not_run: int) -> Table:
    table = Table(title_justify="left")
    count = totals(results)
    table.title = (
        f"{len(results)} scenarios in {seconds:.1f} s: {count['passed']} passed, "
        f"{count['failed']} failed, {count['skipped']} skipped"
        + (f", {not_run} not run (stopped at the first failure)" if not_run else "")
    )
    table.add_column("suite")
    table.add_column("scenario")
    table.add_column("result")
    table.add_column("time", justify="right")
    table.add_column("why")
    for r in results:
        table.add_row(
            r.scenario.suite,
            r.scenario.name,
            MARKS[r.status] + " " + r.status,
            f"{r.seconds:.2f} s",
            escape(r.message),
        )
    return table


def write_junit(path: Path, results: list[Result], target: str) -> None:
    root = ET.Element("testsuites", name="builderos check")
    for suite in SUITES:
        mine = [r for r in results if r.scenario.suite == suite]
        if not mine:
            continue
        count = totals(mine)
        element = ET.SubElement(
            root,
            "testsuite",
            name=suite,
            tests=str(len(mine)),
            failures=str(count["failed"]),
            errors="0",
            skipped=str(count["skipped"]),
            time=f"{sum(r.seconds for r in mine):.3f}",
            timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        ET.SubElement(ET.SubElement(element, "properties"), "property", name="target", value=target)
        for r in mine:
            case = ET.SubElement(
                element,
                "testcase",
                name=r.scenario.name,
                classname=f"builderos.check.{suite}",
                time=f"{r.seconds:.3f}",
            )
            if r.status == "failed":
                failure = ET.SubElement(case, "failure", message=r.message)
                failure.text = r.detail or r.message
            elif r.status == "skipped":
                ET.SubElement(case, "skipped", message=r.message)
            ET.SubElement(case, "system-out").text = r.scenario.doc
    ET.indent(root)
    _write(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


def write_json(path: Path, results: list[Result], target: str, seconds: float) -> None:
    count = totals(results)
    document = {
        "target": target,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "totals": {status: count[status] for status in ("passed", "failed", "skipped")},
        "results": [
            {
                "name": r.scenario.name,
                "suite": r.scenario.suite,
                "source": r.scenario.source,
                "status": r.status,
                "seconds": round(r.seconds, 3),
                "message": r.message,
                "checks": r.scenario.doc,
            }
            for r in results
        ],
    }
    _write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
