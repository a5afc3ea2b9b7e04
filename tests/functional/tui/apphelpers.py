"""Running the chat app headless in tests: the harness's driver helpers, plus an app factory
with the test token and a fixed device id."""

from __future__ import annotations

from pathlib import Path

from harness.driver import (
    Watch,
    blocks,
    fast_backoff,
    open_tab,
    pick_tab,
    replies_done,
    started,
    type_and_send,
    view,
)
from tests.conftest import TOKEN
from tui.app import ChatApp, ChatSetup
from tui.cli import bundled_mock
from tui.store import ChatStore

__all__ = [
    "Watch",
    "blocks",
    "make_app",
    "open_tab",
    "pick_tab",
    "replies_done",
    "started",
    "type_and_send",
    "view",
]


def make_app(
    data_dir: Path, url: str | None, *, token: str = TOKEN, device: str = "DEV"
) -> ChatApp:
    return ChatApp(
        ChatSetup(
            store=ChatStore(data_dir / "history.db"),
            device_id=device,
            url=url,
            token=token,
            backoff=fast_backoff,
            start_backend=bundled_mock(data_dir, chunk_delay=0) if url is None else None,
        )
    )
