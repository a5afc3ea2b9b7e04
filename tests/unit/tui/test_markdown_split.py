"""Safe cut points in Markdown: never inside a fenced block, always at a block boundary."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.widgets.conversation.markdown_split import safe_cut

DOC = "# Title\n\nFirst paragraph.\n\n```python\ncode\n\nmore code\n```\n\nLast paragraph.\n"


def test_cut_is_after_a_blank_line() -> None:
    cut = safe_cut(DOC, 30)
    assert DOC[:cut] == "# Title\n\nFirst paragraph.\n\n"


def test_never_cuts_inside_a_code_fence() -> None:
    inside = DOC.index("more code")
    cut = safe_cut(DOC, inside)
    assert cut == DOC.index("```python")
    assert safe_cut(DOC, len(DOC)) == DOC.index("Last paragraph.")


def test_no_boundary_means_no_cut() -> None:
    assert safe_cut("one long line without any break", 10) == 0
    assert safe_cut("```\nopen fence\n\nstill code\n", 100) == 0


@given(
    st.lists(st.sampled_from(["text\n", "\n", "```\n", "- item\n", "## h\n"]), max_size=40),
    st.integers(0, 300),
)
def test_cuts_leave_fences_balanced(lines: list[str], upto: int) -> None:
    text = "".join(lines)
    cut = safe_cut(text, upto)
    assert 0 <= cut <= max(upto, 0)
    head = text[:cut]
    assert sum(1 for line in head.splitlines() if line.startswith("```")) % 2 == 0
    if cut:
        # a block boundary: the cut follows a whole blank line, so the tail starts a new block
        assert head.endswith("\n") and head.splitlines()[-1].strip() == "", repr(head[-20:])
