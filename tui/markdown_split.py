"""Where a Markdown text can be cut so that both halves render as they would together.

A cut is safe after a blank line outside any fenced code block: the next block starts fresh.
The live reply uses this to freeze its finished blocks into cheap widgets and keep only its
tail in the (expensive, growing) live Markdown widget.
"""

from __future__ import annotations

_FENCES = ("```", "~~~")


def safe_cut(text: str, upto: int) -> int:
    """The largest offset ≤ `upto` where a new block starts outside a code fence (0: none)."""
    in_fence = False
    best = 0
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(_FENCES):
            in_fence = not in_fence
        offset += len(line)
        if offset > upto:
            break
        if not in_fence and not line.strip() and line.endswith("\n"):
            best = offset
    return best
