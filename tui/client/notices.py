"""A budget for notices, so a flood of odd frames cannot flood the screen.

Sans I/O: the caller gives the time. A few notices in a window are shown as they come; the
rest are counted and summed up in one line once the window has passed ("412 more like this").
"""

from __future__ import annotations

from dataclasses import dataclass, field

BURST = 5
"""Notices shown in one window before the rest are counted."""
WINDOW = 10.0
"""Seconds of a window."""


@dataclass
class NoticeBudget:
    burst: int = BURST
    window: float = WINDOW
    _started: float | None = field(default=None, repr=False)
    _shown: int = field(default=0, repr=False)
    _held: int = field(default=0, repr=False)
    _last: str = field(default="", repr=False)

    def take(self, now: float, text: str) -> bool:
        """True: show this notice now. False: it is counted for the summary."""
        if self._started is None or now - self._started >= self.window:
            self._started, self._shown = now, 0
        if self._shown < self.burst:
            self._shown += 1
            return True
        self._held += 1
        self._last = text
        return False

    def summary(self) -> str | None:
        """One line for the notices held back since the last summary (None: none were)."""
        if not self._held:
            return None
        held, last, self._held, self._last = self._held, self._last, 0, ""
        more = "1 more notice" if held == 1 else f"{held:,} more notices"
        return f"{more} like these were not shown; the last: {last[:300]}"
