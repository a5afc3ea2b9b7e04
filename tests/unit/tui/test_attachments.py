"""Attachments without a network: the model read defensively, `@path` and pasted paths, and
the tray's life cycle with an uploader the test controls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tui.client import attachments as files
from tui.client.attachments import Attachment, human_size
from tui.client.uploads import Progress, UploadError
from tui.model.attachment_tray import MAX_FILES, AttachmentTray, mentioned, pasted_path

NOTES = Attachment("a1", "notes.txt", "text/plain", 1200, "document", "http://h/uploads/notes.txt")


def test_an_attachment_reads_back_from_its_wire_form() -> None:
    assert Attachment.from_wire(NOTES.wire()) == NOTES
    assert files.loads(files.dumps([NOTES])) == (NOTES,)
    assert files.dumps([]) is None


@pytest.mark.parametrize(
    "raw", ["not json", "{}", '"text"', "[1, null, []]", '[{"url": 5}]', None, 7]
)
def test_what_is_not_an_attachment_is_left_out_never_raised(raw: object) -> None:
    assert files.loads(raw) == ()


def test_missing_fields_get_defaults_from_the_url() -> None:
    only_url = Attachment.from_wire({"url": "http://h/uploads/shot.png", "size": True})
    assert only_url is not None
    assert (only_url.filename, only_url.mime_type, only_url.type, only_url.size) == (
        "shot.png",
        "image/png",
        "image",
        0,
    )


def test_sizes_read_as_people_say_them() -> None:
    assert [human_size(n) for n in (7, 1200, 3_000_000, 50_000_000_000)] == [
        "7 bytes",
        "1.2 KB",
        "3.0 MB",
        "50.0 GB",
    ]


def test_at_paths_name_existing_files_only(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("n")
    (tmp_path / "my report.md").write_text("r")
    text = (
        "see @notes.txt and @my\\ report.md, also '@quoted' @missing.txt "
        "mail me@example.com, @notes.txt again"
    )
    assert mentioned(text, tmp_path) == [tmp_path / "notes.txt", tmp_path / "my report.md"]
    assert mentioned('read @"my report.md"', tmp_path) == [tmp_path / "my report.md"]


def test_a_pasted_path_is_a_file_only_when_it_is_one_existing_file(tmp_path: Path) -> None:
    (tmp_path / "a b.txt").write_text("x")
    assert pasted_path(f"'{tmp_path}/a b.txt'") == tmp_path / "a b.txt"
    assert pasted_path(f"{tmp_path}/a\\ b.txt\n") == tmp_path / "a b.txt"
    assert pasted_path(f"file://{tmp_path}/a%20b.txt") == tmp_path / "a b.txt"
    assert pasted_path("a b.txt", tmp_path) == tmp_path / "a b.txt"
    assert pasted_path(str(tmp_path)) is None, "a folder"
    assert pasted_path(f"{tmp_path}/a b.txt\nmore text") is None
    assert pasted_path("hello world") is None
    assert pasted_path("x" * 5000) is None


class Uploads:
    """An uploader whose uploads finish when the test says."""

    def __init__(self) -> None:
        self.started: list[Path] = []
        self.finish: dict[str, asyncio.Future[Attachment]] = {}

    async def __call__(
        self, base_url: str, token: str, path: Path, *, on_progress: Progress | None = None
    ) -> Attachment:
        self.started.append(path)
        if on_progress:
            on_progress(0, 10)
        future = self.finish[path.name] = asyncio.get_running_loop().create_future()
        return await future

    def done(self, name: str) -> None:
        self.finish[name].set_result(
            Attachment(name, name, "text/plain", 10, "document", f"http://h/uploads/{name}")
        )


async def _changes(tray: AttachmentTray, changes: asyncio.Queue[None]) -> None:
    await asyncio.wait_for(changes.get(), 5)


async def test_the_tray_uploads_each_file_and_hands_over_the_ready_ones(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("0123456789")
    uploads = Uploads()
    changes: asyncio.Queue[None] = asyncio.Queue()
    tray = AttachmentTray(
        "http://h", "t", on_change=lambda: changes.put_nowait(None), uploader=uploads
    )
    tray.add(tmp_path / "a.txt")
    tray.add(tmp_path / "b.txt")
    while len(uploads.finish) < 2:
        await _changes(tray, changes)
    assert tray.uploading == 2 and not tray.ready
    assert "uploading 0%" in tray.items[0].label
    uploads.done("b.txt")
    await _changes(tray, changes)
    assert [a.filename for a in tray.ready] == ["b.txt"] and tray.uploading == 1
    uploads.done("a.txt")
    await asyncio.wait_for(tray.settled(), 5)
    assert [a.filename for a in tray.ready] == ["a.txt", "b.txt"], "in the order attached"


async def test_removing_a_file_cancels_its_upload_and_a_mention_does_not_bring_it_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.txt"
    path.write_text("0123456789")
    uploads = Uploads()
    tray = AttachmentTray("http://h", "t", on_change=lambda: None, uploader=uploads)
    item = tray.add(path)
    await asyncio.sleep(0)  # the upload task starts
    task = item.task
    assert task is not None
    tray.remove(item.key)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not tray and tray.uploading == 0
    assert not tray.wants(path) and not tray.attached(path)
    tray.clear()
    assert tray.wants(path), "a new message starts afresh"


async def test_a_failed_upload_keeps_its_reason_and_can_be_tried_again(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("0123456789")
    attempts = 0

    async def flaky(
        base_url: str, token: str, path: Path, *, on_progress: Progress | None = None
    ) -> Attachment:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise UploadError("a.txt not uploaded: cannot reach http://h (ConnectError)")
        return NOTES

    tray = AttachmentTray("http://h", "t", on_change=lambda: None, uploader=flaky)
    item = tray.add(path)
    await tray.settled()
    assert tray.failed == [item] and "cannot reach" in item.label and not tray.ready
    tray.retry(item.key)
    await tray.settled()
    assert tray.failed == [] and tray.ready == (NOTES,)


async def test_files_that_cannot_go_fail_at_once_with_the_reason(tmp_path: Path) -> None:
    uploads = Uploads()
    tray = AttachmentTray("http://h", "t", on_change=lambda: None, uploader=uploads)
    missing = tray.add(tmp_path / "gone.txt")
    assert missing.error is not None and "is not a file" in missing.label
    for n in range(MAX_FILES):
        (tmp_path / f"{n}.txt").write_text("x")
        tray.add(tmp_path / f"{n}.txt")
    assert tray.items[-1].error == f"{MAX_FILES} files is the limit for one message"
    tray.cancel()


def test_restored_files_are_ready_at_once() -> None:
    tray = AttachmentTray("http://h", "t", on_change=lambda: None, restored=(NOTES,))
    assert tray.ready == (NOTES,) and tray.uploading == 0
    assert tray.items[0].label == "notes.txt · 1.2 KB"
