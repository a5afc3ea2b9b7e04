"""Running the chat app headless in tests: the harness's driver helpers, plus an app factory
with the test token and a fixed device id."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from harness.driver import (
    Watch,
    blocks,
    drawn,
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
from tui.commands.chat import in_process_mock
from tui.model.workspace import ChatTab
from tui.store import ChatStore, StoredMessage
from tui.system.local_backend import StartBackend
from tui.widgets.chat_view import Shown

__all__ = [
    "Watch",
    "blocks",
    "drawn",
    "make_app",
    "open_tab",
    "pick_tab",
    "replies_done",
    "started",
    "type_and_send",
    "view",
    "with_history",
]


def make_app(
    data_dir: Path,
    url: str | None,
    *,
    token: str = TOKEN,
    device: str = "DEV",
    start_backend: StartBackend | None = None,
) -> ChatApp:
    """The app on `url`, or with none on `start_backend` (default: the mock in this process)."""
    return ChatApp(
        ChatSetup(
            store=ChatStore(data_dir / "history.db"),
            device_id=device,
            url=url,
            token=token,
            backoff=fast_backoff,
            start_backend=(start_backend or in_process_mock(data_dir, chunk_delay=0))
            if url is None
            else None,
        )
    )


async def with_history(app: ChatApp, count: int, earlier: int = 0) -> ChatTab:
    """The selected tab with `count` stored messages ("earlier message N"), the last 100 of
    them loaded, `earlier` said to be above."""
    assert app.workspace is not None
    tab = app.workspace.selected
    for n in range(count):
        role = "user" if n % 2 == 0 else "assistant"
        message = StoredMessage(f"old{n}", role, f"earlier message {n}", "complete", "2026")
        app.setup.store.save(tab.session_id, message)
    tab.messages = app.setup.store.recent(tab.session_id, 100)
    tab.earlier = earlier
    view(app).enqueue(Shown())
    await app.settled()
    return tab


async def type_into(pilot: Pilot[None], text: str) -> None:
    """Key by key into the focused field (a dialog's, the find bar's)."""
    for key in text:
        await pilot.press("space" if key == " " else key)
