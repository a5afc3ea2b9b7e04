"""What a scenario is, how it says it failed or could not run, and the registry of them all."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from harness.target import Target

Suite = Literal["checklist", "contract"]
SUITES: tuple[Suite, ...] = ("checklist", "contract")


class Failed(Exception):
    """The backend or the app did not do what the scenario checks; the text says what and what
    came back."""


class Skipped(Exception):
    """The scenario cannot run against this target; the text says why."""


def check(condition: object, message: str) -> None:
    """A scenario's assertion: a failure whose message says what was expected and what came
    back (plain `assert` disappears under `python -O`)."""
    if not condition:
        raise Failed(message)


@dataclass(frozen=True)
class Scenario:
    name: str
    suite: Suite
    run: Callable[[Target], Awaitable[None]]
    source: str
    """Where the scenario comes from: a seed's checklist item or a contract section."""

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.run.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


@dataclass
class Registry:
    scenarios: list[Scenario] = field(default_factory=list)

    def add(
        self, suite: Suite, name: str, source: str
    ) -> Callable[[Callable[[Target], Awaitable[None]]], Callable[[Target], Awaitable[None]]]:
        def register(
            run: Callable[[Target], Awaitable[None]],
        ) -> Callable[[Target], Awaitable[None]]:
            if any(s.name == name for s in self.scenarios):
                raise ValueError(f"two scenarios are named {name}")
            self.scenarios.append(Scenario(name, suite, run, source))
            return run

        return register


REGISTRY = Registry()
scenario = REGISTRY.add


def all_scenarios() -> list[Scenario]:
    """Every scenario, checklist first, in the order they were written."""
    import harness.checklist
    import harness.contract  # noqa: F401  (importing registers them)

    return sorted(REGISTRY.scenarios, key=lambda s: SUITES.index(s.suite))


def select(suite: str, only: list[str]) -> list[Scenario]:
    """The scenarios to run; an unknown name in `only` is an error that lists the names."""
    chosen = [s for s in all_scenarios() if suite == "all" or s.suite == suite]
    if not only:
        return chosen
    names = {s.name for s in all_scenarios()}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise ValueError(
            f"no scenario named {', '.join(unknown)}; `builderos check --list` shows them all"
        )
    return [s for s in chosen if s.name in only]
