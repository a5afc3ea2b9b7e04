"""Real-time limits, scaled for slow or busy machines.

Every wait in the harness and the tests is a constant times `FACTOR`, read from the environment
variable BUILDEROS_TIME_FACTOR (default 1): on a loaded CI runner, `BUILDEROS_TIME_FACTOR=4`
raises every limit instead of failing (as the `websockets` test suite does with its own factor).
Waits are on events; a limit only says when to give up.
"""

from __future__ import annotations

import os

ENV = "BUILDEROS_TIME_FACTOR"


def _factor(raw: str | None) -> float:
    try:
        return max(1.0, float(raw)) if raw else 1.0
    except ValueError:
        return 1.0


FACTOR = _factor(os.environ.get(ENV))


def scaled(seconds: float) -> float:
    return seconds * FACTOR
