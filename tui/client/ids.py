"""Identifiers of the iOS model: a stable device id and `{deviceId}-{provider}-{tabId}`."""

from __future__ import annotations

import uuid

from tui.client.frames import Provider


def new_id() -> str:
    return str(uuid.uuid4()).upper()


def session_id(device_id: str, provider: Provider, tab_id: str) -> str:
    return f"{device_id}-{provider}-{tab_id}"
