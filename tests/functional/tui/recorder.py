"""Collects a TabConnection's events and lets a test await the one it needs (no sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from harness.timing import scaled
from tui.client.connection import ClientEvent, StateChanged
from tui.client.state import Phase


class Recorder:
    def __init__(self) -> None:
        self.events: list[ClientEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: ClientEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(
        self, predicate: Callable[[Any], bool], *, after: int = 0, limit: float = 10
    ) -> Any:
        """The first event from index `after` on that satisfies `predicate`."""
        async with asyncio.timeout(scaled(limit)):
            while True:
                for event in self.events[after:]:
                    if predicate(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

    async def wait_phase(self, phase: Phase, *, after: int = 0) -> StateChanged:
        return await self.wait_for(
            lambda e: isinstance(e, StateChanged) and e.state.phase == phase, after=after
        )

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]
