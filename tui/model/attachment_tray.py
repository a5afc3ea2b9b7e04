"""The files attached to the message being written: each is uploaded as soon as it is added
(progress as it goes), so the message goes the moment it is sent. No screen here: a view
draws `items` whenever `on_change` is called."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from tui.client.attachments import Attachment, human_size
from tui.client.uploads import Progress, UploadError, file_size, upload

MAX_FILES = 10
"""Files per message: past this a message is better split."""
_MENTION = re.compile(r"(?:^|(?<=\s))@(\"[^\"]+\"|'[^']+'|(?:\\.|[^\s\\])+)")
"""`@path` in a message: a bare path (spaces escaped with a backslash) or a quoted one."""


class Uploader(Protocol):
    def __call__(
        self, base_url: str, token: str, path: Path, *, on_progress: Progress | None = ...
    ) -> Awaitable[Attachment]: ...


@dataclass
class TrayItem:
    key: int
    name: str
    path: Path | None
    """Where it was read from (None: restored with the draft, uploaded before)."""
    sent: int = 0
    total: int = 0
    attachment: Attachment | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = None

    @property
    def uploading(self) -> bool:
        return self.attachment is None and self.error is None

    @property
    def label(self) -> str:
        """What its chip says."""
        if self.attachment is not None:
            return self.attachment.label
        if self.error is not None:
            return self.error if self.error.startswith(self.name) else f"{self.name}: {self.error}"
        share = f"{self.sent * 100 // self.total}%" if self.total else "…"
        return f"{self.name} · uploading {share} of {human_size(self.total)}"


class AttachmentTray:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        on_change: Callable[[], Any],
        restored: tuple[Attachment, ...] = (),
        uploader: Uploader = upload,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.on_change = on_change
        self.uploader = uploader
        """Uploads one file (tests hand in one they control)."""
        self._keys = itertools.count(1)
        self.items: list[TrayItem] = [
            TrayItem(next(self._keys), a.filename, None, a.size, a.size, a) for a in restored
        ]
        self._settled = asyncio.Event()
        self._settled.set()
        self._removed: set[str] = set()
        """Files the user took off: a `@path` still in the text does not bring them back."""

    # what the composer shows and sends ---------------------------------------------------------

    @property
    def ready(self) -> tuple[Attachment, ...]:
        return tuple(i.attachment for i in self.items if i.attachment is not None)

    @property
    def uploading(self) -> int:
        return sum(1 for i in self.items if i.uploading)

    @property
    def failed(self) -> list[TrayItem]:
        return [i for i in self.items if i.error is not None]

    def __bool__(self) -> bool:
        return bool(self.items)

    # what the user does ------------------------------------------------------------------------

    def add(self, path: Path) -> TrayItem:
        """Attach a file: its upload starts now. A file that cannot be sent (missing, too
        large, the tenth already attached) is an item with the reason, for the user to see."""
        path = path.expanduser()
        item = TrayItem(next(self._keys), path.name or str(path), path)
        self.items.append(item)
        try:
            if len(self.items) > MAX_FILES:
                raise UploadError(f"{MAX_FILES} files is the limit for one message")
            item.total = file_size(path)
        except UploadError as exc:
            item.error = str(exc)
        else:
            self._start(item)
        self._changed()
        return item

    def retry(self, key: int) -> None:
        """Upload a failed item again (the backend was down, the token was fixed)."""
        item = self._item(key)
        if item is None or item.error is None or item.path is None:
            return
        item.error, item.sent = None, 0
        self._start(item)
        self._changed()

    def remove(self, key: int) -> None:
        """Take the file off the message (its upload, if running, is cancelled)."""
        item = self._item(key)
        if item is None:
            return
        self.items.remove(item)
        if item.task is not None:
            item.task.cancel()
        if item.path is not None:
            self._removed.add(_resolved(item.path))
        self._changed()

    def remove_last(self) -> bool:
        if not self.items:
            return False
        self.remove(self.items[-1].key)
        return True

    def clear(self) -> None:
        """The message was sent: the tray starts empty."""
        for item in self.items:
            if item.task is not None:
                item.task.cancel()
        self.items = []
        self._removed.clear()
        self._changed()

    def attached(self, path: Path) -> bool:
        resolved = _resolved(path)
        return any(i.path is not None and _resolved(i.path) == resolved for i in self.items)

    def wants(self, path: Path) -> bool:
        """A `@path` in the text: the file is neither attached nor taken off by the user."""
        return not self.attached(path) and _resolved(path) not in self._removed

    async def settled(self) -> None:
        """Return once no upload is running."""
        await self._settled.wait()

    def cancel(self) -> None:
        """Stop what is still uploading (the tab or the app is closing)."""
        for item in self.items:
            if item.task is not None:
                item.task.cancel()

    # uploads -----------------------------------------------------------------------------------

    def _item(self, key: int) -> TrayItem | None:
        return next((i for i in self.items if i.key == key), None)

    def _start(self, item: TrayItem) -> None:
        assert item.path is not None
        item.task = asyncio.create_task(self._run(item, item.path), name=f"upload {item.name}")

    async def _run(self, item: TrayItem, path: Path) -> None:
        def progress(sent: int, total: int) -> None:
            item.sent, item.total = sent, total
            self.on_change()

        try:
            item.attachment = await self.uploader(
                self.base_url, self.token, path, on_progress=progress
            )
        except UploadError as exc:
            item.error = str(exc)
        except Exception as exc:  # a bug in an upload is the chip's error, not the app's
            item.error = f"not uploaded ({exc.__class__.__name__}: {exc})"
        finally:
            item.task = None
        self._changed()

    def _changed(self) -> None:
        if self.uploading:
            self._settled.clear()
        else:
            self._settled.set()
        self.on_change()


def mentioned(text: str, base: Path | None = None) -> list[Path]:
    """The files a message names as `@path` (relative to `base`, default the working dir)
    that exist; other `@words` (a handle, a decorator) are left alone."""
    found: list[Path] = []
    for match in _MENTION.finditer(text):
        raw = match.group(1)
        for candidate in (raw, raw.rstrip(".,;:!?)]}")):  # "see @notes.txt, then…"
            path = Path(_unquoted(candidate)).expanduser()
            if not path.is_absolute():
                path = (base or Path.cwd()) / path
            with contextlib.suppress(OSError):
                if path.is_file():
                    if path not in found:
                        found.append(path)
                    break
    return found


def pasted_path(text: str, base: Path | None = None) -> Path | None:
    """A paste that is one existing file's path (a file dropped on the terminal pastes its
    path, quoted or with backslashes, or as a file:// URL); None for any other paste."""
    text = text.strip()
    if not text or "\n" in text or len(text) > 4096:
        return None
    if text.startswith("file://"):
        text = unquote(urlsplit(text).path)
    path = Path(_unquoted(text)).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    try:
        return path if path.is_file() else None
    except OSError:
        return None


def _unquoted(raw: str) -> str:
    try:
        words = shlex.split(raw)
    except ValueError:
        return raw
    return words[0] if len(words) == 1 else raw


def _resolved(path: Path) -> str:
    try:
        return os.path.realpath(path)
    except OSError:
        return str(path)
