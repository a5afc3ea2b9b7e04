"""Attachments in the app, against the mock backend on an ephemeral port: `@path` and a pasted
path attach, chips come off with ✕ or Backspace, a failed file stops the send and says why,
Enter while a file uploads sends once it is up, and the draft's files survive a restart. (The
ctrl+t dialog, the frame and the reply are the checklist's `attachment-reaches-the-agent`.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual import events

from mock_backend import MockBackend
from tests.functional.tui.apphelpers import (
    Watch,
    drawn,
    make_app,
    replies_done,
    started,
    type_and_send,
    view,
)
from tui.app import ChatApp
from tui.client.attachments import Attachment
from tui.client.uploads import Progress
from tui.widgets.attachment_chips import Chip
from tui.widgets.composer import Composer


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("Shopping list\nmilk\n", encoding="utf-8")
    (folder / "plan.md").write_text("# Plan\n", encoding="utf-8")
    monkeypatch.chdir(folder)  # `@notes.txt` is relative to where the app runs
    return folder


def chips(app: ChatApp) -> list[str]:
    return [str(chip.render()) for chip in view(app).query(Chip)]


async def test_at_path_attaches_and_the_reply_sees_the_file(
    backend: MockBackend, tmp_path: Path, files: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(100, 30)) as pilot:
        watch = await started(pilot)
        await type_and_send(pilot, "Look at @notes.txt, please.")
        await watch.until(replies_done(app, 1))
        tab = app.workspace.selected if app.workspace else None
        assert tab is not None
        sent = tab.messages[-2]
        assert [a.filename for a in sent.attachments] == ["notes.txt"]
        assert sent.text == "Look at @notes.txt, please.", "the text is sent as typed"
        assert "`notes.txt` — text/plain" in tab.messages[-1].text
        assert "Shopping list" in tab.messages[-1].text
        await drawn(pilot, lambda: chips(app) == [])
        assert view(app).tray.items == [], "the chips went with the message"


async def test_paste_attaches_a_file_and_chips_come_off_with_x_or_backspace(
    backend: MockBackend, tmp_path: Path, files: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        chat = view(app)
        app.post_message(events.Paste(str(files / "notes.txt")))
        app.post_message(events.Paste(f"'{files / 'plan.md'}'"))
        await drawn(pilot, lambda: len(chips(app)) == 2 and chat.tray.uploading == 0)
        await drawn(pilot, lambda: chips(app)[0].startswith("📎 notes.txt · 19 bytes"))
        assert chat.composer.text == "", "a file's path is not pasted as text"
        chip = chat.query(Chip).first()
        await pilot.click(chip, offset=(chip.size.width - 2, 0))  # its ✕
        await drawn(pilot, lambda: len(chips(app)) == 1)
        assert chips(app)[0].startswith("📎 plan.md")
        await pilot.press("backspace")  # in the empty composer: the last file goes
        await drawn(pilot, lambda: chips(app) == [])
        assert app.workspace is not None and app.workspace.selected.draft_attachments == ()
        app.post_message(events.Paste("just some words"))
        await drawn(pilot, lambda: chat.composer.text == "just some words")


async def test_a_failed_file_stops_the_send_and_says_why(
    backend: MockBackend, tmp_path: Path, files: Path
) -> None:
    app = make_app(tmp_path, backend.url, token="wrong")
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        chat = view(app)
        chat.composer.focus()
        chat.composer.insert("Read @notes.txt")
        await pilot.press("enter")
        await drawn(pilot, lambda: chat.tray.failed != [])
        await drawn(pilot, lambda: any(n.startswith("Not sent: notes.txt") for n in app.notices))
        await drawn(pilot, lambda: bool(chips(app)) and "BUILDEROS_TOKEN" in chips(app)[0])
        assert chat.composer.text == "Read @notes.txt", "nothing typed is lost"
        assert app.workspace is not None and app.workspace.selected.messages == []


async def test_enter_while_a_file_uploads_sends_once_it_is_up(
    backend: MockBackend, tmp_path: Path, files: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(100, 30)) as pilot:
        watch = await started(pilot)
        chat = view(app)
        release = asyncio.Event()
        real = chat.tray.uploader

        async def slow(
            base_url: str, token: str, path: Path, *, on_progress: Progress | None = None
        ) -> Attachment:
            if on_progress:
                on_progress(5, 19)
            await release.wait()
            return await real(base_url, token, path, on_progress=on_progress)

        chat.tray.uploader = slow
        chat.composer.focus()
        chat.composer.insert("Here it is: @notes.txt")
        await pilot.press("enter")
        await drawn(pilot, lambda: bool(chips(app)) and "uploading 26%" in chips(app)[0])
        status = chat.query_one("#status")
        await drawn(pilot, lambda: "sends once 1 upload finish" in str(status.render()))
        assert app.workspace is not None
        tab = app.workspace.selected
        assert tab.messages == [] and chat.composer.text == "Here it is: @notes.txt"
        release.set()
        await watch.until(lambda: len(tab.messages) >= 1)
        assert [a.filename for a in tab.messages[0].attachments] == ["notes.txt"]
        await drawn(pilot, lambda: chat.composer.text == "")


async def test_the_drafts_files_come_back_after_a_restart(
    backend: MockBackend, tmp_path: Path, files: Path
) -> None:
    app = make_app(tmp_path, backend.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        chat = view(app)
        app.post_message(events.Paste(str(files / "notes.txt")))
        await drawn(pilot, lambda: len(chat.tray.ready) == 1)
        chat.query_one(Composer).insert("half a thought")
    again = make_app(tmp_path, backend.url)
    async with again.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await drawn(pilot, lambda: chips(again) != [])
        assert chips(again)[0].startswith("📎 notes.txt · 19 bytes")
        assert view(again).composer.text == "half a thought"
        assert again.workspace is not None
        tab = again.workspace.selected
        await pilot.press("enter")  # sends the draft with its file
        await Watch(again).until(lambda: bool(tab.messages))
        sent = tab.messages[0]
        assert (sent.text, [a.filename for a in sent.attachments]) == (
            "half a thought",
            ["notes.txt"],
        )
