"""Wrong tokens are answered slower and slower, per client address.

Without this one client tried 437 tokens a second. The first few failures are free (a typo);
after that each failure's answer waits twice as long as the last, up to a cap, until the address
has been quiet for a while. Only failures wait: the right token is answered at once, and a
success forgets the address's failures. Sans I/O: it says how long to wait, the caller waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Record:
    failures: int
    last: float


class FailureThrottle:
    def __init__(
        self,
        *,
        free: int = 5,
        base: float = 0.25,
        cap: float = 5.0,
        forget_after: float = 60.0,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free
        self.base = base
        self.cap = cap
        self.forget_after = forget_after
        self.max_addresses = max_addresses
        self.clock = clock
        self._records: dict[str, _Record] = {}

    def failed(self, address: str) -> float:
        """Record a wrong token from `address`; returns the seconds to wait before answering."""
        now = self.clock()
        record = self._records.get(address)
        if record is None or now - record.last > self.forget_after:
            self._prune(now)
            record = self._records[address] = _Record(0, now)
        record.failures += 1
        record.last = now
        return self.delay(record.failures)

    def succeeded(self, address: str) -> None:
        self._records.pop(address, None)

    def delay(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        return min(self.cap, self.base * 2.0 ** (failures - self.free - 1))

    def failures(self, address: str) -> int:
        record = self._records.get(address)
        return record.failures if record else 0

    def _prune(self, now: float) -> None:
        """Keep memory bounded: forget quiet addresses, and the oldest if there are too many."""
        if len(self._records) < self.max_addresses:
            return
        for address, record in list(self._records.items()):
            if now - record.last > self.forget_after:
                del self._records[address]
        while len(self._records) >= self.max_addresses:
            del self._records[next(iter(self._records))]
