"""The conversation widget alone, in a one-widget host app: a reply looks the same while it
streams and once complete (only its note changes), and a long reply re-renders only its tail."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.store import StoredMessage
from tui.widgets.conversation import LIVE_LIMIT, ConversationLog

REPLY = "".join(
    f"## Part {n}\n\n"
    + f"Some words of part {n}, long enough to wrap. " * 6
    + f"\n\n```python\ndef part_{n}():\n    return {n}\n```\n\n- a point\n- another\n\n"
    for n in range(30)
)


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield ConversationLog("Jarvis", id="log")


def body(log: ConversationLog) -> list[str]:
    """The reply's lines as text, without its last border (where the note is)."""
    entry = log.entries[-1]
    assert log._look is not None
    return [strip.text for strip in entry.lines(log._width, log._look)[:-2]]


async def test_nothing_moves_when_a_streamed_reply_completes() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(ConversationLog)
        for end in range(0, len(REPLY), 97):
            log.stream(REPLY[: end + 97])
            await pilot.pause(0.02)
        log.stream(REPLY)
        log._frame()
        live = body(log)
        assert log.live is not None and len(log.live.tail) <= LIVE_LIMIT
        assert len(log.live.parts) > 5, "finished blocks were frozen while it streamed"
        log.end_live(StoredMessage("m:reply", "assistant", REPLY, "complete", "t"))
        await pilot.pause()
        assert body(log) == live


async def test_a_finished_message_renders_as_a_streamed_one_would() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(ConversationLog)
        log.add([StoredMessage("m1", "user", "hello", "acknowledged", "t")])
        await pilot.pause()
        assert log.entries[0].title == "You" and log.entries[0].subtitle == "✓ received"
        assert log.virtual_size.height == len(log.entries[0].lines(log._width, log._look))  # type: ignore[arg-type]
