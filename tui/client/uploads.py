"""`POST /api/files/upload` (CONTRACT.md §1): a file streamed as multipart, with progress.

The body is written a chunk at a time from the file (a 50 MB file is never held in memory)
with its exact length announced, and every way it can go wrong is an `UploadError` whose text
a person can act on: too large (checked before a byte is sent), token refused, backend gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from tui.client.attachments import Attachment, human_size, kind_of, mime_of
from tui.client.frames import normalise_base_url
from tui.client.ids import new_id
from tui.client.state import TOKEN_FIX

UPLOAD_LIMIT = 50_000_000
"""The contract's limit; a backend with a lower one says so in its 413."""
CHUNK = 256 * 1024
Progress = Callable[[int, int], Any]
"""Called with (bytes sent, bytes in all) as the file goes."""


class UploadError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def file_size(path: Path, limit: int = UPLOAD_LIMIT) -> int:
    """The size of a file that can be uploaded; UploadError (with the reason) otherwise."""
    try:
        if not path.is_file():
            raise UploadError(f"{path} is not a file")
        size = path.stat().st_size
    except OSError as exc:
        raise UploadError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size > limit:
        raise UploadError(
            f"{path.name} is {human_size(size)}: the backend takes files up to {human_size(limit)}",
            413,
        )
    return size


async def upload(
    base_url: str,
    token: str,
    path: Path,
    *,
    on_progress: Progress | None = None,
    client: httpx.AsyncClient | None = None,
    wait: float = 30.0,
) -> Attachment:
    """Upload the file; returns the attachment to send with a message."""
    size = file_size(path)
    mime = mime_of(path.name)
    kind = kind_of(mime)
    boundary = f"builderos-{new_id()}"
    quoted = path.name.replace('"', "%22").replace("\r", " ").replace("\n", " ")
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\n{kind}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode("utf-8", "replace")
    tail = f"\r\n--{boundary}--\r\n".encode()
    progress = on_progress or (lambda sent, total: None)

    async def body() -> AsyncIterator[bytes]:
        yield head
        sent = 0
        progress(0, size)
        with path.open("rb") as source:
            while sent < size:
                chunk = await asyncio.to_thread(source.read, min(CHUNK, size - sent))
                if not chunk:
                    raise UploadError(f"{path.name} got shorter while it was being uploaded")
                sent += len(chunk)
                yield chunk
                progress(sent, size)
        yield tail

    url = normalise_base_url(base_url) + "/api/files/upload"
    headers = {
        "X-API-Key": token,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + size + len(tail)),
    }
    own = client is None
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(wait, write=wait))
    try:
        response = await http.post(url, content=body(), headers=headers)
    except OSError as exc:
        raise UploadError(f"cannot read {path}: {exc.strerror or exc}") from None
    except httpx.HTTPError as exc:
        raise UploadError(
            f"{path.name} not uploaded: cannot reach {base_url} ({exc.__class__.__name__})"
        ) from None
    finally:
        if own:
            await http.aclose()
    return _answer(response, path, size, mime, kind, base_url)


def _answer(
    response: httpx.Response, path: Path, size: int, mime: str, kind: str, base_url: str
) -> Attachment:
    try:
        body = response.json()
    except ValueError:
        body = None
    answer: dict[str, Any] = body if isinstance(body, dict) else {}
    code = response.status_code
    if code == 401:
        raise UploadError(
            f"{path.name} not uploaded: the backend refused the token; {TOKEN_FIX}", 401
        )
    if code == 413:
        limit = answer.get("limit")
        allowed = f"up to {human_size(limit)}" if isinstance(limit, int) else "less"
        raise UploadError(
            f"{path.name} ({human_size(size)}) is too large: the backend takes {allowed}", 413
        )
    if code != 200 or answer.get("ok") is not True or not isinstance(answer.get("url"), str):
        said = answer.get("error")
        why = f": {str(said)[:120]}" if said else ""
        raise UploadError(f"{path.name} not uploaded: the backend answered {code}{why}", code)
    url = str(answer["url"])
    if url.startswith("/"):  # a server that answers with its path only
        url = normalise_base_url(base_url) + url
    stored_size = answer.get("size")
    filename = answer.get("filename")
    return Attachment(
        id=new_id(),
        filename=filename if isinstance(filename, str) and filename else path.name,
        mime_type=mime,
        size=stored_size if isinstance(stored_size, int) and stored_size >= 0 else size,
        type=kind,
        url=url,
    )
