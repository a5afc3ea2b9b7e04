"""One session on every device (docs/protocol.md §5), client side: what another device sent
(a `turn`), who is on the session (`presence`), and its close, read defensively from frames.
Everything here came from the server: clean text, bounded, shown as data."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from tui.client.attachments import Attachment, from_list
from tui.client.frames import clean_text

MAX_TURN_CHARS = 1_000_000
"""The longest message from another device kept (a server's frame is at most 1 MiB anyway)."""
MAX_NAME = 64
MAX_DEVICES = 50
"""Devices listed in a presence frame; a longer list is cut (and says how many more)."""


@dataclass(frozen=True)
class Device:
    device_id: str
    name: str | None = None
    since: str = ""

    @property
    def label(self) -> str:
        """How the device is shown: its name, else the start of its id."""
        return self.name or short_id(self.device_id)


@dataclass(frozen=True)
class Turn:
    """A message the session took, from whichever device sent it."""

    msg_id: str
    text: str
    device: Device
    timestamp: str
    attachments: tuple[Attachment, ...] = ()


def short_id(device_id: str) -> str:
    """A device id as a short label: `7F673C1F-E957-…` → `7F673C1F`."""
    head = device_id.split("-", 1)[0]
    return head[:12] or device_id[:12] or "?"


def _text(value: object, limit: int) -> str:
    return clean_text(value)[:limit] if isinstance(value, str) else ""


def turn_of(data: dict[str, Any], msg_id: str) -> Turn | None:
    """The turn a `turn` frame describes (`msg_id`: its `reply_to`); None without its text."""
    content = data.get("content")
    if not isinstance(content, str):
        return None
    device_id = _text(data.get("device_id"), 256) or "unknown-device"
    return Turn(
        msg_id,
        clean_text(content[:MAX_TURN_CHARS]),
        Device(device_id, _text(data.get("device_name"), MAX_NAME) or None),
        _text(data.get("timestamp"), 64),
        from_list(data.get("attachments")),
    )


def devices_of(items: object) -> tuple[Device, ...]:
    """The devices of a presence frame (or a session listing); entries without an id are
    left out."""
    if not isinstance(items, list):
        return ()
    devices = []
    for item in items[:MAX_DEVICES]:
        if isinstance(item, dict) and (device_id := _text(item.get("device_id"), 256)):
            name = _text(item.get("name"), MAX_NAME) or None
            devices.append(Device(device_id, name, _text(item.get("since"), 64)))
    return tuple(devices)


def this_device_name() -> str:
    """What the other devices call this one: the machine's short host name."""
    try:
        name = socket.gethostname().split(".", 1)[0]
    except OSError:
        return ""
    return clean_text(name)[:MAX_NAME]
