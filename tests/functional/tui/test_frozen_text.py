"""The finished part of a long reply: one widget that renders each part once per width."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown as RichMarkdown
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from tui.widgets.streamed_reply import FrozenText

FIRST = "# Title\n\nSome **bold** words that run on for a while.\n\n- one\n- two\n"
SECOND = "```python\nprint('hi')\n```\n\nThe end.\n"


class Host(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield FrozenText()


def _rich_lines(text: str, width: int) -> list[str]:
    console = Console(width=width, color_system=None)
    return [
        "".join(segment.text for segment in line).rstrip()
        for line in console.render_lines(RichMarkdown(text, code_theme="monokai"), pad=False)
    ]


async def test_parts_render_as_rich_renders_them_and_only_new_parts_render() -> None:
    async with Host().run_test(size=(60, 30)) as pilot:
        frozen = pilot.app.query_one(FrozenText)
        frozen.add([FIRST])
        await pilot.pause()
        width = frozen.size.width
        first = [strip.text.rstrip() for strip in frozen.lines(width)]
        assert first == _rich_lines(FIRST, width)
        assert frozen.size.height == len(first)

        kept = frozen.lines(width)[: len(first)]
        frozen.add([SECOND])
        await pilot.pause()
        lines = frozen.lines(width)
        assert len(lines) > len(kept)
        assert all(new is old for new, old in zip(lines, kept, strict=False)), (
            "earlier parts are not rendered again: the very same strips are kept"
        )
        assert [s.text.rstrip() for s in lines[len(first) :]] == _rich_lines(SECOND, width)
        assert frozen.size.height == len(lines) and frozen.parts == 2
        assert "print('hi')" in frozen.render_line(len(first) + 1).text, "drawn from the strips"


async def test_a_few_widths_are_kept() -> None:
    async with Host().run_test(size=(60, 30)) as pilot:
        frozen = pilot.app.query_one(FrozenText)
        frozen.add([FIRST * 3])
        narrow = frozen.lines(20)
        assert len(narrow) > len(frozen.lines(50)), "a narrower width wraps into more lines"
        assert frozen.lines(20) is narrow, "a width seen before is not rendered again"
        for width in (30, 40, 45):
            frozen.lines(width)
        assert frozen.lines(20) is not narrow, "the oldest width was let go"
