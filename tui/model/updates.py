"""Which screen updates are posted and not yet drawn, so the app can say "all shown".

The app posts every workspace change to the widget that draws it; each widget handles its own
messages one at a time. `Outstanding` counts what was posted per widget and is told when each
is handled, so `ChatApp.settled()` can wait until the screen shows everything the model holds
(the harness and the tests wait on it instead of sampling). A widget removed with updates still
queued is forgotten, so a closed tab never blocks the wait.
"""

from __future__ import annotations

import asyncio
from collections import Counter


class Outstanding:
    def __init__(self) -> None:
        self._counts: Counter[object] = Counter()
        self._idle = asyncio.Event()
        self._idle.set()

    def posted(self, owner: object) -> None:
        self._counts[owner] += 1
        self._idle.clear()

    def handled(self, owner: object) -> None:
        if self._counts[owner] > 0:
            self._counts[owner] -= 1
        if self._counts[owner] == 0:
            del self._counts[owner]
        self._check()

    def forget(self, owner: object) -> None:
        self._counts.pop(owner, None)
        self._check()

    def _check(self) -> None:
        if not self._counts:
            self._idle.set()

    @property
    def count(self) -> int:
        return sum(self._counts.values())

    async def idle(self) -> None:
        """Return once nothing posted is waiting to be drawn."""
        while self._counts:
            await self._idle.wait()
