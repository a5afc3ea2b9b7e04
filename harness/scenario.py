"""What a scenario is, and the list each suite module keeps of its own."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from harness.target import Target

Suite = Literal["checklist", "contract", "resilience"]
SUITES: tuple[Suite, ...] = ("checklist", "contract", "resilience")
Run = Callable[[Target], Awaitable[str | None]]
"""A scenario: raises Failed or Skipped, or returns a note for the report (a figure)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    suite: Suite
    run: Run
    source: str
    """Where the scenario comes from: a seed's checklist item or a contract section."""
    limit: float | None = None
    """Seconds it may take, if more than the runner's default."""

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.run.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


class ScenarioList(list[Scenario]):
    """One suite's scenarios, in the order they are written; `@SUITE.add(name, source)`."""

    def __init__(self, suite: Suite) -> None:
        super().__init__()
        self.suite = suite

    def add(self, name: str, source: str, limit: float | None = None) -> Callable[[Run], Run]:
        def register(run: Run) -> Run:
            if any(s.name == name for s in self):
                raise ValueError(f"two scenarios are named {name}")
            self.append(Scenario(name, self.suite, run, source, limit))
            return run

        return register
