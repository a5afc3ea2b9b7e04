"""How a scenario says it failed or could not run: exceptions the runner turns into results."""

from __future__ import annotations


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
