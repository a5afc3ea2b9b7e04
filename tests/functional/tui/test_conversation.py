"""The conversation widget alone, in a one-widget host app: a reply looks the same while it
streams and once complete (only its note changes), and a long reply re-renders only its tail."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult

from tui.client.attachments import Attachment
from tui.store import StoredMessage
from tui.widgets.conversation import KEEP_RENDERED, LIVE_LIMIT, ConversationLog, shown_time

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
    return [strip.text for strip in log.lines_of(log.entries[-1])[:-2]]


async def test_nothing_moves_when_a_streamed_reply_completes() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(ConversationLog)
        for end in range(0, len(REPLY), 97):
            log.stream(REPLY[: end + 97])
            await pilot.pause(0.02)
        log.stream(REPLY)
        log.flush()
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
        assert log.virtual_size.height == len(log.lines_of(log.entries[0]))


CODE_REPLY = "Here is the fix:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nThat is all."


class CopyHost(Host):
    def __init__(self) -> None:
        super().__init__()
        self.copied: list[tuple[str, str]] = []

    def on_conversation_log_copy_requested(self, event: ConversationLog.CopyRequested) -> None:
        self.copied.append((event.what, event.text))


def row_of(log: ConversationLog, text: str) -> int:
    """The screen row showing `text` (the log is at the top of the screen, not scrolled)."""
    for row in range(log.size.height):
        strip = log.render_line(row)
        if strip is not None and text in strip.text:
            return row
    raise AssertionError(f"{text!r} is not on screen")


async def test_a_click_copies_the_code_block_under_it_or_else_the_message() -> None:
    app = CopyHost()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ConversationLog)
        log.add([StoredMessage("m:reply", "assistant", CODE_REPLY, "complete", "t")])
        await pilot.pause()
        await pilot.click(ConversationLog, offset=(8, row_of(log, "return a + b")))
        await pilot.click(ConversationLog, offset=(8, row_of(log, "That is all")))
        await pilot.pause()
        assert app.copied == [
            ("code block", "def add(a, b):\n    return a + b"),
            ("message", CODE_REPLY),
        ]


async def test_text_selected_with_the_mouse_is_copied_without_the_boxes() -> None:
    app = CopyHost()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ConversationLog)
        log.add(
            [
                StoredMessage("m1", "user", "What is two and two?", "acknowledged", "t"),
                StoredMessage(
                    "m1:reply", "assistant", "Four.\n\nAnd three and three is six.", "complete", "t"
                ),
            ]
        )
        await pilot.pause()
        start = row_of(log, "two and two")
        end = row_of(log, "three is six")
        first, last = log.render_line(start), log.render_line(end)
        assert first is not None and last is not None
        column, until = first.text.index("two and two"), last.text.index("three") + 5
        await pilot.mouse_down(ConversationLog, offset=(column, start))
        await pilot.hover(ConversationLog, offset=(until, end))
        await pilot.mouse_up(ConversationLog, offset=(until, end))
        await pilot.pause()
        assert app.screen.get_selected_text() == "two and two?\n\nFour.\n\nAnd three"
        assert app.copied == [], "the end of a drag is not a click that copies"


async def test_a_long_conversation_keeps_the_lines_of_recent_messages_only() -> None:
    """10,000 messages kept every rendered line (about 9 KB each); now only the entries
    painted last keep theirs, the others their line count, rendered again when shown."""
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ConversationLog)
        count = KEEP_RENDERED * 3
        log.add(
            [
                StoredMessage(f"m{n}", "user", f"message number {n}", "complete", "t")
                for n in range(count)
            ]
        )
        await pilot.pause()
        kept = [entry for entry in log.entries if entry.rendered]
        assert len(kept) <= KEEP_RENDERED and log.entries[-1] in kept
        height = log.virtual_size.height
        log.scroll_home(animate=False)
        await pilot.pause()
        first = log.render_line(1)
        assert first is not None and "message number 0" in first.text
        assert log.virtual_size.height == height, "forgotten lines were still counted"


async def test_a_link_shows_its_target_and_a_user_message_its_files() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(ConversationLog)
        notes = Attachment("a", "notes.txt", "text/plain", 1200, "document", "http://h/u/notes.txt")
        log.add(
            [
                StoredMessage("m", "user", "Read this", "acknowledged", "t", attachments=(notes,)),
                StoredMessage(
                    "m:reply",
                    "assistant",
                    "See [the docs](https://example.com/docs).",
                    "complete",
                    "t",
                ),
            ]
        )
        await pilot.pause()
        shown = "\n".join(log.render_line(y).text for y in range(log.size.height))
        assert "📎 notes.txt · 1.2 KB" in shown
        assert "the docs (https://example.com/docs)" in shown


def test_times_read_as_people_say_them() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    today = datetime(2026, 11, 22, 9, 5, tzinfo=UTC).astimezone()
    assert shown_time(today.isoformat(), now) == today.strftime("%H:%M")
    earlier = datetime(2026, 3, 1, 9, 5, tzinfo=UTC)
    assert shown_time(earlier.isoformat(), now) == earlier.astimezone().strftime("%b %d %H:%M")
    assert shown_time("2026", now) == "" and shown_time("not a time", now) == ""
