"""Uploaded files: safe stored names; streamed writes under a size limit, no partial file left."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlsplit

from aiohttp import BodyPartReader

from localdata.private import FILE_MODE, private_dir

MAX_UPLOAD_BYTES = 50_000_000
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:]")
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""Raster images may be shown by a browser; everything else is served as a download.
(SVG is not here: it can carry script.)"""


def serving_headers(name: str) -> dict[str, str]:
    """How an upload is served: never as a page on the API's origin. An uploaded .html, .svg or
    .js shown inline would run with the API's origin (stored XSS); as an attachment, with
    nosniff and a CSP that forbids everything, it is only ever a download."""
    guessed = mimetypes.guess_type(name)[0]
    inline = guessed in INLINE_TYPES
    quoted = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return {
        "Content-Type": guessed if inline and guessed else "application/octet-stream",
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{quoted}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
    }


class UploadTooLarge(Exception):
    pass


def base_name(filename: str | None) -> str:
    """The client's filename cut to its base name (`../../x` → `x`), never empty or hidden."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    name = _UNSAFE.sub("_", name).strip().lstrip(".")
    return name[:200] or "upload"


def is_stored_name(name: str) -> bool:
    return name == base_name(name) and not name.startswith(".")


class UploadDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    def free_name(self, name: str) -> str:
        """`name`, or `stem-2.ext`, `stem-3.ext`, … so an upload never replaces another."""
        candidate, n = name, 1
        stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
        while (self.path / candidate).exists():
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        return candidate

    async def save(self, part: BodyPartReader, filename: str) -> tuple[str, int]:
        """Write the part to `<dir>/<free name>`; returns (stored name, size).

        Raises UploadTooLarge past MAX_UPLOAD_BYTES, leaving no file behind.
        """
        private_dir(self.path)
        temp = self.path / f".{uuid.uuid4().hex}.part"
        size = 0
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                while chunk := await part.read_chunk(256 * 1024):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        raise UploadTooLarge
                    out.write(chunk)
            stored = self.free_name(base_name(filename))
            temp.rename(self.path / stored)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        return stored, size

    def local(self, url: str) -> Path | None:
        """Where the upload a url of this server names (`…/uploads/x`) is on this machine;
        None for any other url or a file that is gone (an agent is handed the path)."""
        prefix, _, name = urlsplit(url).path.rpartition("/")
        return self.file(unquote(name)) if prefix.endswith("/uploads") else None

    def head(self, url: str, limit: int) -> bytes | None:
        """The first `limit` bytes of the upload a url of this server names; None for any
        other url or a file that is gone."""
        path = self.local(url)
        if path is None:
            return None
        try:
            with path.open("rb") as source:
                return source.read(limit)
        except OSError:
            return None

    def file(self, name: str) -> Path | None:
        if not is_stored_name(name):
            return None
        path = self.path / name
        return path if path.is_file() else None
