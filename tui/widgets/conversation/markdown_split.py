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


FORCE_AFTER = 3_200
"""Characters a block may grow to before it is cut anyway (a reply that is one endless line or
one endless code block would otherwise be rendered again whole on every frame: a 1 MiB line
once stalled the screen for 6 s)."""


def next_cut(
    text: str, opener: str, limit: int, keep: int, force_after: int = FORCE_AFTER
) -> tuple[int, str] | None:
    """Where to freeze the head of `text`, and the code fence still open there.

    `opener`: the fence line `text` starts inside ("" outside any). Prefers a safe cut (a
    blank line outside a fence) at or before `limit`, then one that leaves `keep` characters;
    past `force_after` characters with neither, it cuts at the last line end before `limit`
    (or at `limit` in an endless line) and returns the fence open there, for the rest to be
    rendered inside it. None: keep growing.
    """
    fence = opener
    best = line_end = offset = 0
    fence_at_end = opener
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(_FENCES):
            fence = "" if fence else line.strip()
        offset += len(line)
        safe = not fence and not line.strip() and line.endswith("\n")
        if offset <= limit:
            if safe:
                best = offset
            if line.endswith("\n"):
                line_end, fence_at_end = offset, fence
            continue
        if best:
            break
        if safe and offset <= len(text) - keep:
            return offset, ""  # the first block end past the limit
        if offset > force_after:
            break
    if best:
        return best, ""
    if len(text) <= force_after:
        return None
    if line_end:
        return line_end, fence_at_end
    return limit, fence_state(text[:limit], opener)


def fence_state(text: str, opener: str) -> str:
    """The code fence open at the end of `text`, which starts inside `opener` ("": none)."""
    fence = opener
    for line in text.splitlines():
        if line.lstrip().startswith(_FENCES):
            fence = "" if fence else line.strip()
    return fence
