"""A file attached to a message, as the chat frame's `attachments` carries it (docs/protocol.md
§1.2 step 5): `{"id","filename","mime_type","size","type","url"}`, the url being where the
backend's upload endpoint stored it."""

from __future__ import annotations

import json
import mimetypes
from dataclasses import asdict, dataclass
from typing import Any

from tui.client.frames import clean_text


@dataclass(frozen=True)
class Attachment:
    id: str
    filename: str
    mime_type: str
    size: int
    type: str
    """`image` or `document`, as the iOS app sends it."""
    url: str

    def wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_wire(cls, data: object) -> Attachment | None:
        """One entry as a server or the local history holds it; None if it is not one
        (an entry that is not an object, a url that is not text)."""
        if not isinstance(data, dict):
            return None
        url = data.get("url")
        if not isinstance(url, str) or not url:
            return None
        size = data.get("size")

        def text(key: str, default: str) -> str:
            value = data.get(key)
            return clean_text(value) if isinstance(value, str) and value else default

        filename = text("filename", url.rsplit("/", 1)[-1] or "file")
        mime = text("mime_type", mime_of(filename))
        return cls(
            id=text("id", url),
            filename=filename,
            mime_type=mime,
            size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else 0,
            type=text("type", kind_of(mime)),
            url=clean_text(url),
        )

    @property
    def label(self) -> str:
        """How a chip or a message names it: `notes.txt · 1.2 KB`."""
        return f"{self.filename} · {human_size(self.size)}"


def mime_of(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def kind_of(mime_type: str) -> str:
    return "image" if mime_type.startswith("image/") else "document"


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size:,} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def dumps(attachments: tuple[Attachment, ...] | list[Attachment]) -> str | None:
    """As stored in the local history (None: no attachment)."""
    return json.dumps([a.wire() for a in attachments]) if attachments else None


def loads(raw: object) -> tuple[Attachment, ...]:
    """From the local history; whatever cannot be read is left out, never raised."""
    if not isinstance(raw, str) or not raw:
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        return ()
    return from_list(items)


def from_list(items: object) -> tuple[Attachment, ...]:
    """The entries of a list that are attachments (a server's metadata, a stored column)."""
    if not isinstance(items, list):
        return ()
    return tuple(a for item in items if (a := Attachment.from_wire(item)) is not None)
