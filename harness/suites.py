"""Every scenario, checklist first, and how `builderos check` picks among them."""

from __future__ import annotations

from harness.agent_contract import AGENT_CONTRACT
from harness.agent_work import AGENT_WORK
from harness.checklist import CHECKLIST
from harness.contract import CONTRACT
from harness.resilience import RESILIENCE
from harness.scenario import Scenario
from harness.sync_checks import SYNC, SYNC_RESILIENCE


def all_scenarios() -> list[Scenario]:
    return [
        *CHECKLIST,
        *AGENT_WORK,
        *SYNC,
        *CONTRACT,
        *AGENT_CONTRACT,
        *RESILIENCE,
        *SYNC_RESILIENCE,
    ]


def select(suite: str, only: list[str]) -> list[Scenario]:
    """The scenarios to run; an unknown name in `only` is an error that lists the names."""
    everything = all_scenarios()
    chosen = [s for s in everything if suite == "all" or s.suite == suite]
    if not only:
        return chosen
    unknown = [n for n in only if n not in {s.name for s in everything}]
    if unknown:
        raise ValueError(
            f"no scenario named {', '.join(unknown)}; `builderos check --list` shows them all"
        )
    return [s for s in chosen if s.name in only]
