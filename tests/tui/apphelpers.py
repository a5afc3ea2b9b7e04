"""Running the chat app headless in tests, and awaiting what it shows (no sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from tests.conftest import TOKEN
from tui.app import ChatApp, ChatSetup
from tui.client.backoff import Backoff
from tui.store import ChatStore
from tui.widgets.chat_view import ChatView
from tui.widgets.composer import Composer
from tui.widgets.dialogs import PickTab
from tui.widgets.message_block import MessageBlock
from tui.widgets.streamed_reply import StreamedReply


def fast_backoff() -> Backoff:
    return Backoff(base=0.05, cap=0.2)


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
            demo_chunk_delay=0,
        )
    )


class Watch:
    """Resolves a test's condition on the very model change that makes it true.

    Conditions are checked inside the workspace's change hook, so a state that lasts only
    while a reply streams is seen even though `pilot.pause()` waits for the app to go idle.
    """

    def __init__(self, app: ChatApp) -> None:
        assert app.workspace is not None, "start the app first"
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        inner = app.workspace.on_change

        def hook(change: object) -> None:
            inner(change)  # type: ignore[arg-type]
            for predicate, future in self._waiters:
                if not future.done() and predicate():
                    future.set_result(None)

        app.workspace.on_change = hook

    async def until(
        self, pilot: Pilot, predicate: Callable[[], bool], limit: float = 15, settle: bool = True
    ) -> None:
        if not predicate():
            future = asyncio.get_running_loop().create_future()
            waiter = (predicate, future)
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout(limit):
                    await future
            finally:
                self._waiters.remove(waiter)
        if settle:
            await pilot.pause()  # let the screen catch up with the model


async def started(pilot: Pilot) -> Watch:
    app = pilot.app
    assert isinstance(app, ChatApp)
    async with asyncio.timeout(10):
        while app.workspace is None:
            await pilot.pause()
    return Watch(app)


def view(app: ChatApp, index: int | None = None) -> ChatView:
    assert app.workspace is not None
    tab = app.workspace.selected if index is None else app.workspace.tabs[index]
    found = app.view(tab.tab_id)
    assert found is not None
    return found


def blocks(app: ChatApp, index: int | None = None) -> list[MessageBlock | StreamedReply]:
    """The finished messages on screen (a long streamed reply stays a StreamedReply)."""
    return [w for w in view(app, index).query(".message") if getattr(w, "message", None)]  # type: ignore[misc]


async def pick_tab(pilot: Pilot, number: int) -> None:
    """ctrl+g, then the number; returns once that tab is shown (the picker's callback runs
    after the key press has been handled)."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    async with asyncio.timeout(10):
        await pilot.press("ctrl+g")
        while not isinstance(app.screen, PickTab):
            await pilot.pause()
        await pilot.press(str(number))
        while not view(app, number - 1).active:
            await pilot.pause()


async def type_and_send(pilot: Pilot, text: str) -> None:
    app = pilot.app
    assert isinstance(app, ChatApp)
    composer = view(app).query_one(Composer)
    composer.focus()
    composer.insert(text)
    await pilot.press("enter")


def replies_done(app: ChatApp, count: int, index: int | None = None) -> Callable[[], bool]:
    def check() -> bool:
        assert app.workspace is not None
        tab = app.workspace.selected if index is None else app.workspace.tabs[index]
        done = [m for m in tab.messages if m.role != "user" and m.status != "pending"]
        return len(done) >= count and tab.live is None

    return check
