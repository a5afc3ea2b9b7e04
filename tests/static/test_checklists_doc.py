"""docs/checklists.md and the harness's `checklist` suite cannot drift apart: every scenario of
the suite (as `builderos check --suite checklist --list` lists it) is in a Scenario column of
the doc, and every scenario name the doc's tables mention exists."""

from __future__ import annotations

import re
from pathlib import Path

from harness.suites import all_scenarios, select

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "checklists.md"
BACKTICKED = re.compile(r"`([^`]+)`")
SCENARIO_LIKE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")


def tables(text: str) -> list[list[list[str]]]:
    """The doc's Markdown tables, each a list of rows of cells (separator rows left out)."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def scenario_cells(text: str) -> list[str]:
    """Every cell of every table's Scenario column."""
    cells: list[str] = []
    for table in tables(text):
        header = [cell.lower() for cell in table[0]]
        if "scenario" in header:
            column = header.index("scenario")
            cells += [row[column] for row in table[1:]]
    return cells


def checklist_names() -> list[str]:
    return [scenario.name for scenario in select("checklist", [])]


def test_the_checklist_suite_has_scenarios() -> None:
    assert len(checklist_names()) >= 17  # 11 + 6 seed items, at least


def test_every_checklist_scenario_is_in_a_scenario_column() -> None:
    named = {
        name
        for cell in scenario_cells(DOC.read_text(encoding="utf-8"))
        for name in BACKTICKED.findall(cell)
    }
    missing = [name for name in checklist_names() if name not in named]
    assert not missing, f"docs/checklists.md does not name these checklist scenarios: {missing}"


def test_every_scenario_column_cell_names_a_scenario() -> None:
    cells = scenario_cells(DOC.read_text(encoding="utf-8"))
    assert cells, "docs/checklists.md has no table with a Scenario column"
    empty = [cell for cell in cells if not BACKTICKED.search(cell)]
    assert not empty, f"Scenario cells that name no scenario: {empty}"


def test_every_scenario_named_in_the_tables_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    known = {scenario.name for scenario in all_scenarios()}
    checklist = set(checklist_names())
    unknown: list[str] = []
    for cell in scenario_cells(text):
        unknown += [name for name in BACKTICKED.findall(cell) if name not in checklist]
    for table in tables(text):
        for row in table:
            for cell in row:
                unknown += [
                    name
                    for name in BACKTICKED.findall(cell)
                    if SCENARIO_LIKE.match(name) and name not in known
                ]
    assert not unknown, f"docs/checklists.md names scenarios the harness does not have: {unknown}"
