"""`POST /api/files/upload` (docs/protocol.md §1.1): a file streamed as multipart, with progress.

The body is written a chunk at a time from the file (a 50 MB file is never held in memory)
with its exact length announced, and every way it can go wrong is an `UploadError` whose text
a person can act on: too large (checked before a byte is sent), token refused, backend gone.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.client.attachments import Attachment, human_size, kind_of, mime_of
from tui.client.frames import clean_text, normalise_base_url
from tui.client.ids import new_id
from tui.client.state import TOKEN_FIX

if TYPE_CHECKING:  # imported where a request is made (see tui.client.history)
    import httpx

UPLOAD_LIMIT = 50_000_000
"""The contract's limit; a backend with a lower one says so in its 413."""
CHUNK = 256 * 1024
STALL = 30.0
"""Seconds an upload may go without a chunk sent, and then without its whole answer: a 50 MB
file on a slow link takes as long as it needs, a backend that stops reading fails."""
IN_FLIGHT = 8 * 1024 * 1024
"""Bytes a file's end may still be on its way (socket buffers) once the last chunk is sent."""
ANSWER_MAX_BYTES = 1024 * 1024
"""The answer is a small JSON object; past this it is not read on."""
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
    wait: float = STALL,
) -> Attachment:
    """Upload the file; returns the attachment to send with a message. The upload may take
    as long as it keeps moving: it fails after `wait` seconds without a chunk sent, or
    without the whole answer once the file is sent."""
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
    loop = asyncio.get_running_loop()
    stall = asyncio.timeout(wait)

    def moved() -> None:
        """A chunk went: the upload has `wait` seconds again."""
        stall.reschedule(loop.time() + wait)

    async def body() -> AsyncIterator[bytes]:
        yield head
        sent = 0
        started = loop.time()
        progress(0, size)
        with path.open("rb") as source:
            while sent < size:
                chunk = await asyncio.to_thread(source.read, min(CHUNK, size - sent))
                if not chunk:
                    raise UploadError(f"{path.name} got shorter while it was being uploaded")
                sent += len(chunk)
                yield chunk
                moved()
                progress(sent, size)
        yield tail
        # "Sent" is handed to the socket: up to IN_FLIGHT bytes may still sit in buffers and
        # drain at the pace the upload went; then the answer must come whole within `wait`
        rate = max(sent / max(loop.time() - started, 1e-3), 1.0)
        stall.reschedule(loop.time() + wait + min(sent, IN_FLIGHT) / rate)

    try:
        url = normalise_base_url(base_url) + "/api/files/upload"
    except ValueError as exc:
        raise UploadError(f"{path.name} not uploaded: {exc}") from None
    headers = {
        "X-API-Key": token,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + size + len(tail)),
    }
    try:
        async with stall:
            code, answer = await _post(url, body(), headers, client, wait)
    except TimeoutError:
        raise UploadError(
            f"{path.name} not uploaded: {url} made no progress for {wait:g} s"
        ) from None
    except UploadError:
        raise
    except OSError as exc:  # httpx wraps the network's; this one is the file's
        raise UploadError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # httpx raises more than HTTPError for odd input (InvalidURL,
        # UnicodeEncodeError for a header, an ExceptionGroup for a bad port): an UploadError
        raise UploadError(
            f"{path.name} not uploaded: cannot reach {base_url} ({exc.__class__.__name__})"
        ) from None
    return _answer(code, answer, path, size, mime, kind, base_url)


async def _post(
    url: str,
    content: AsyncIterator[bytes],
    headers: dict[str, str],
    client: httpx.AsyncClient | None,
    wait: float,
) -> tuple[int, bytes | None]:
    """The answer's status and body (None: the body is over `ANSWER_MAX_BYTES`)."""
    import httpx

    # no read timeout of its own: the answer's window is the caller's stall timer, which
    # counts the bytes still in buffers (a fixed `wait` here failed a 16 MiB upload to a
    # slow reader on a loaded machine, its answer 2 s behind the last chunk handed over)
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(wait, read=None))
    try:
        async with http.stream("POST", url, content=content, headers=headers) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > ANSWER_MAX_BYTES:
                    return response.status_code, None
            return response.status_code, bytes(body)
    finally:
        if client is None:
            await http.aclose()


def _answer(
    code: int, raw: bytes | None, path: Path, size: int, mime: str, kind: str, base_url: str
) -> Attachment:
    if raw is None:
        raise UploadError(
            f"{path.name} not uploaded: the backend's answer ({code}) is over "
            f"{human_size(ANSWER_MAX_BYTES)}",
            code,
        )
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        body = None
    answer: dict[str, Any] = body if isinstance(body, dict) else {}
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
    url = clean_text(str(answer["url"]))
    if url.startswith("/"):  # a server that answers with its path only
        url = normalise_base_url(base_url) + url
    stored_size = answer.get("size")
    filename = answer.get("filename")
    return Attachment(
        id=new_id(),
        filename=clean_text(filename) if isinstance(filename, str) and filename else path.name,
        mime_type=mime,
        size=stored_size if isinstance(stored_size, int) and stored_size >= 0 else size,
        type=kind,
        url=url,
    )
