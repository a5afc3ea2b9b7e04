"""Where a Markdown text can be cut so that both halves render as they would together.

A cut is safe after a blank line outside any fenced code block: the next block starts fresh.
The conversation uses this to freeze a streaming reply's finished blocks (rendered once) and
re-render only its tail on each frame.
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
