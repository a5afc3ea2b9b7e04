"""Reconnect delays: exponential backoff with full jitter (0.5 s growing to a 10 s cap).

Full jitter spreads the reconnects of many clients after a server restart, instead of the iOS
app's fixed 2 s that makes them all arrive together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base: float = 0.5
    cap: float = 10.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.attempt)
        self.attempt += 1
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.attempt = 0
