"""A stock Textual chat, the baseline of benchmarks/streaming_cost.py: it streams a reply the
way Toad and oterm do, one `Markdown` widget per reply fed through `Markdown.get_stream()`, in
a scrolling container, with an `Input` below.

    python benchmarks/stock_chat.py REPLY_FILE [--history N]

Enter in the input starts streaming REPLY_FILE at the reference server's pace (100 characters
every 50 ms). `--history N` puts N earlier messages above it.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Markdown

CHUNK = 100
PACE = 0.05


class StockChat(App[None]):
    CSS = "Markdown { margin: 0 1; border: round $primary; }"

    def __init__(self, reply: str, history: int) -> None:
        super().__init__()
        self.reply = reply
        self.history = history

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            for n in range(self.history):
                yield Markdown(f"**Earlier message {n}**: some words about the project, `code`.")
        yield Input(placeholder="Message")

    def on_mount(self) -> None:
        self.query_one("#log", VerticalScroll).anchor()
        self.query_one(Input).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == "go":
            event.input.clear()
            self.run_worker(self._stream(), exclusive=True)

    async def _stream(self) -> None:
        reply = Markdown()
        await self.query_one("#log", VerticalScroll).mount(reply)
        stream = Markdown.get_stream(reply)
        try:
            for start in range(0, len(self.reply), CHUNK):
                await stream.write(self.reply[start : start + CHUNK])
                await asyncio.sleep(PACE)  # the reference server's pace: what is measured
        finally:
            await stream.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reply", type=Path)
    parser.add_argument("--history", type=int, default=0)
    args = parser.parse_args()
    StockChat(args.reply.read_text(encoding="utf-8"), args.history).run()


if __name__ == "__main__":
    main()
