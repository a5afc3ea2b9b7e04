"""Driving the real chat app headless (Textual's `App.run_test()` pilot), as a user would:
keys, typing, tab switches, quitting and starting again. Waits are on model changes, never on
sleeps. The tests use the same helpers."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from harness.outcome import Failed
from harness.timing import scaled
from tui.app import ChatApp, ChatSetup
from tui.client.attachments import Attachment
from tui.client.backoff import Backoff
from tui.client.state import Phase
from tui.model.workspace import ChatTab, Workspace
from tui.store import ChatStore, StoredMessage, device_id_of
from tui.widgets.attach_dialog import AttachFile
from tui.widgets.chat_view import ChatView
from tui.widgets.composer import Composer
from tui.widgets.conversation import Entry
from tui.widgets.dialogs import ConfirmClose, PickTab, RenameTab
from tui.widgets.tab_bar import TabBar

SIZE = (120, 40)
WAIT = scaled(15.0)
"""Seconds any one wait may take before the scenario fails with what it waited for."""
RESTART_WAIT = scaled(60.0)
"""How long a scenario that restarts the backend waits for the drop and for the way back: the
reference server holds sockets ~36 s after SIGTERM, and the client's backoff adds up to 10 s.
A fixed 15 s failed two restart items against it: false alarms."""


@asynccontextmanager
async def data_dir() -> AsyncIterator[Path]:
    """A data dir of the scenario's own: the user's real one is never read or touched."""
    with tempfile.TemporaryDirectory(prefix="builderos-check-app-") as path:
        yield Path(path)


def fast_backoff() -> Backoff:
    """Reconnect quickly: a check should not wait out a user's backoff."""
    return Backoff(base=0.05, cap=0.2)


class Watch:
    """Resolves a condition on the very model change that makes it true.

    Conditions are checked by an observer of the workspace's changes, so a state that lasts
    only while a reply streams is seen; then the wait lasts until the app has drawn everything
    (`ChatApp.settled()`), never a sleep.
    """

    def __init__(self, app: ChatApp) -> None:
        assert app.workspace is not None, "start the app first"
        self.app = app
        self.workspace = app.workspace

    async def until(
        self, predicate: Callable[[], bool], limit: float = WAIT, settle: bool = True
    ) -> None:
        await self.armed(predicate)(limit, settle)

    def armed(self, predicate: Callable[[], bool]) -> Callable[[float, bool], Awaitable[None]]:
        """Start watching now, wait later: for a state that may come and go while the next
        action runs (a short reply can stream whole while a key is being pressed)."""
        future = asyncio.get_running_loop().create_future()

        def changed(change: object) -> None:
            if not future.done() and predicate():
                future.set_result(None)

        stop = self.workspace.observe(changed)

        async def wait(limit: float = WAIT, settle: bool = True) -> None:
            try:
                async with asyncio.timeout(limit):
                    if not predicate():
                        await future
            finally:
                stop()
            if settle:
                await self.app.settled()

        return wait


async def started(pilot: Pilot[None]) -> Watch:
    """Once the app has its workspace and has drawn it."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    async with asyncio.timeout(WAIT):
        while app.workspace is None:
            await pilot.pause()  # the app's mount handler runs after run_test() returns
        await app.settled()
    return Watch(app)


def view(app: ChatApp, index: int | None = None) -> ChatView:
    assert app.workspace is not None
    tab = app.workspace.selected if index is None else app.workspace.tabs[index]
    found = app.view(tab.tab_id)
    assert found is not None
    return found


def blocks(app: ChatApp, index: int | None = None) -> list[Entry]:
    """The finished messages in the conversation, in order (the reply being written is not)."""
    return [entry for entry in view(app, index).log.entries if entry.message is not None]


async def shown(app: ChatApp, tab: ChatTab) -> None:
    """Wait until `tab` is the selected tab and the screen shows it."""
    watch = Watch(app)
    await watch.until(lambda: app.workspace is not None and app.workspace.selected is tab)


async def dialog(pilot: Pilot[None], kind: type[Screen[Any]], limit: float = WAIT) -> None:
    """Wait until the dialog is the screen on top (a screen push is not a workspace change,
    so this waits for the app to go idle, not on the model)."""
    async with asyncio.timeout(limit):
        while not isinstance(pilot.app.screen, kind):
            await pilot.pause()


async def drawn(pilot: Pilot[None], predicate: Callable[[], bool], limit: float = WAIT) -> None:
    """Wait until the screen shows it (what no workspace change announces: a dialog's list,
    the find bar, a chip): the app handles its messages between two checks."""
    async with asyncio.timeout(limit):
        while not predicate():
            await pilot.pause()


async def pick_tab(pilot: Pilot[None], number: int) -> None:
    """ctrl+g, then the number; returns once that tab is shown."""
    app = pilot.app
    assert isinstance(app, ChatApp) and app.workspace is not None
    tab = app.workspace.tabs[number - 1]
    await pilot.press("ctrl+g")
    await dialog(pilot, PickTab)
    await pilot.press(str(number))
    await shown(app, tab)


async def open_tab(pilot: Pilot[None], provider: str) -> ChatTab:
    """ctrl+n (Claude) or ctrl+o (Codex); returns the new tab, once it is shown."""
    app = pilot.app
    assert isinstance(app, ChatApp) and app.workspace is not None
    workspace = app.workspace
    count = len(workspace.tabs)
    await pilot.press("ctrl+n" if provider == "claude" else "ctrl+o")
    await Watch(app).until(lambda: len(workspace.tabs) > count)
    tab = workspace.tabs[-1]
    await shown(app, tab)
    return tab


async def type_and_send(pilot: Pilot[None], text: str) -> None:
    """Type `text` and press Enter; returns once the message is stored. Not `pilot.press`:
    it waits up to 2 s for the process to go idle, which a streaming app is not, and a short
    reply was over before the caller could watch it stream."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    assert app.workspace is not None
    tab = app.workspace.selected
    count = len(tab.messages)
    typed = text.strip()
    sent = Watch(app).armed(
        lambda: any(m.role == "user" and m.text.strip() == typed for m in tab.messages[count:])
    )
    composer = view(app).query_one(Composer)
    composer.focus()
    composer.insert(text)
    app.post_message(events.Key("enter", "\r"))
    await sent(WAIT, False)


def replies(tab: ChatTab) -> list[StoredMessage]:
    """The tab's finished answers: replies, errors and interrupted replies."""
    return [m for m in tab.messages if m.role != "user"]


def replies_done(app: ChatApp, count: int, index: int | None = None) -> Callable[[], bool]:
    def check() -> bool:
        assert app.workspace is not None
        tab = app.workspace.selected if index is None else app.workspace.tabs[index]
        return len(replies(tab)) >= count and tab.live is None

    return check


class AppRun:
    """One run of the chat app against a backend, in a data dir of its own.

    `async with AppRun(...) as run:` starts the app headless; leaving the block quits it as
    ctrl+q would. Start another AppRun on the same data dir to "restart the app".
    """

    def __init__(
        self,
        data_dir: Path,
        url: str,
        token: str,
        device_id: str | None = None,
        open_session: str | None = None,
    ):
        """`open_session`: start as `builderos chat --session` does."""
        self.data_dir = data_dir
        store = ChatStore(data_dir / "history.db")
        self.device_id = device_id_of(store, device_id)
        self.app = ChatApp(
            ChatSetup(
                store=store,
                device_id=self.device_id,
                url=url,
                token=token,
                backoff=fast_backoff,
                open_session=open_session,
            )
        )
        # a pilot key press waits for every animation to end (scrolling, the palette)
        self.app.animation_level = "none"
        self._noticed = asyncio.Event()
        self.app.observe_notices(lambda text: self._noticed.set())
        self._context: Any = None

    @property
    def notices(self) -> list[str]:
        return self.app.notices

    async def __aenter__(self) -> AppRun:
        self._context = self.app.run_test(size=SIZE)
        self.pilot: Pilot[None] = await self._context.__aenter__()
        try:
            self.watch = await started(self.pilot)
        except TimeoutError:
            await self.__aexit__(None, None, None)
            raise Failed(f"the app did not start within {WAIT:.0f} s") from None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._context.__aexit__(exc_type, exc, tb)

    # what is there ----------------------------------------------------------------------------

    @property
    def workspace(self) -> Workspace:
        assert self.app.workspace is not None
        return self.app.workspace

    def tab(self, index: int | None = None) -> ChatTab:
        return self.workspace.selected if index is None else self.workspace.tabs[index]

    def view(self, index: int | None = None) -> ChatView:
        return view(self.app, index)

    def shown(self, index: int | None = None) -> list[str]:
        """The texts of the finished messages on screen in that tab, in order."""
        return [b.message.text for b in blocks(self.app, index) if b.message is not None]

    # waiting ----------------------------------------------------------------------------------

    async def until(self, predicate: Callable[[], bool], what: str, limit: float = WAIT) -> None:
        try:
            await self.watch.until(predicate, limit=limit)
        except TimeoutError:
            raise Failed(f"waited {limit:.0f} s for {what}") from None

    async def connected(self, index: int | None = None, limit: float = WAIT) -> None:
        """Wait for the tab to connect; a refused token fails at once (the app stops retrying)."""
        tab = self.tab(index)
        settled = (Phase.CONNECTED, Phase.AUTH_FAILED)
        await self.until(
            lambda: tab.state.phase in settled,
            f"tab “{tab.title}” to connect (it shows: {tab.state.label(0)})",
            limit,
        )
        if tab.state.phase is not Phase.CONNECTED:
            raise Failed(f"tab “{tab.title}” did not connect: {tab.state.label(0)}")

    async def dropped(self, index: int | None = None) -> None:
        """Wait for the tab to notice that its connection is gone."""
        tab = self.tab(index)
        await self.until(
            lambda: tab.state.phase is not Phase.CONNECTED,
            "the tab to notice the drop",
            RESTART_WAIT,
        )

    # acting -----------------------------------------------------------------------------------

    async def send(self, text: str) -> None:
        """Type `text` in the selected tab and press Enter."""
        await type_and_send(self.pilot, text)

    async def ask(self, text: str) -> StoredMessage:
        """Type `text` in the selected tab, Enter, and wait for the whole reply."""
        tab = self.tab()
        before = len(replies(tab))
        await type_and_send(self.pilot, text)
        await self.until(
            lambda: len(replies(tab)) > before and tab.live is None,
            f"the reply to “{text}” in tab “{tab.title}”",
        )
        reply = replies(tab)[-1]
        if reply.role != "assistant" or reply.status != "complete":
            raise Failed(
                f"the reply to “{text}” ended as {reply.role}/{reply.status}: {reply.text}"
            )
        return reply

    async def new_tab(self, provider: str, connect: bool = True) -> ChatTab:
        """A new tab, shown; by default, wait until it is connected."""
        try:
            tab = await open_tab(self.pilot, provider)
        except TimeoutError:
            raise Failed(
                f"a new {provider} tab was not shown (notices: {self.notices[-1:]})"
            ) from None
        if connect:
            await self.connected()
        return tab

    async def dialog(self, kind: type[Screen[Any]], what: str) -> None:
        try:
            await dialog(self.pilot, kind)
        except TimeoutError:
            raise Failed(f"waited {WAIT:.0f} s for {what}") from None

    def label(self, index: int) -> str:
        """The tab's label as the tab bar draws it."""
        return self.app.query_one(TabBar).label_of(self.tab(index).tab_id)

    async def rename(self, title: str) -> None:
        """F2, the new title, Enter; returns once the tab bar shows it."""
        tab = self.tab()
        await self.pilot.press("f2")
        await self.dialog(RenameTab, "the rename dialog")
        self.app.screen.query_one(Input).value = title
        await self.pilot.press("enter")
        await self.until(lambda: tab.title == title, f"the tab to be renamed “{title}”")

    async def attach(self, path: Path) -> Attachment:
        """ctrl+t, the file's path, Enter; returns once it is uploaded (its chip says so)."""
        view = self.view()
        count = len(view.tray.items)
        await self.pilot.press("ctrl+t")
        await self.dialog(AttachFile, "the attach dialog")
        self.app.screen.query_one(Input).value = str(path)
        await self.pilot.press("enter")
        try:
            await drawn(self.pilot, lambda: len(view.tray.items) > count)
            async with asyncio.timeout(WAIT):
                await view.tray.settled()
        except TimeoutError:
            raise Failed(f"{path.name} was not attached within {WAIT:.0f} s") from None
        item = view.tray.items[-1]
        if item.attachment is None:
            raise Failed(f"{path.name} was not attached: {item.error}")
        await self.pilot.pause()  # the chip is drawn
        return item.attachment

    async def goto(self, number: int) -> None:
        try:
            await pick_tab(self.pilot, number)
        except TimeoutError:
            raise Failed(f"tab {number} was not shown after ctrl+g, {number}") from None

    async def close_selected(self) -> str:
        """F8, then y; returns the app's notice about the close call."""
        count = len(self.notices)
        await self.pilot.press("f8")
        await self.dialog(ConfirmClose, "the close dialog")
        await self.pilot.press("y")
        return await self.notice(
            lambda text: text.startswith("“"), "the notice about the close call", start=count
        )

    async def notice(
        self, predicate: Callable[[str], bool], what: str, start: int = 0, limit: float = WAIT
    ) -> str:
        """The first notice from `start` on that matches (notices come from HTTP calls and
        key handlers, outside the workspace's changes)."""
        try:
            async with asyncio.timeout(limit):
                while True:
                    self._noticed.clear()
                    found = [n for n in self.notices[start:] if predicate(n)]
                    if found:
                        return found[0]
                    await self._noticed.wait()
        except TimeoutError:
            raise Failed(
                f"waited {limit:.0f} s for {what} (notices: {self.notices[start:]})"
            ) from None
