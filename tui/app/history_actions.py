"""The history beyond the tab: the session browser (this machine's and the backend's), search
across every session, opening a session or a search hit in a tab, and export."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual import work

from tui.app.core import AppCore
from tui.client.history import (
    HistoryError,
    Limits,
    RemoteSession,
    SessionListing,
    fetch_history,
    list_sessions,
)
from tui.client.inert import inert_name
from tui.model.export import from_backend, local_conversation, write
from tui.model.session_list import SessionRow, merge
from tui.model.workspace import TabLimitReached
from tui.store import LocalSession, SearchHit, StoreError
from tui.widgets.chat_view import Reveal
from tui.widgets.history_dialogs import ExportTo, SearchHistory, SessionBrowser

log = logging.getLogger(__name__)
LIVE_EVERY = 2.0
"""Seconds between two listings of the backend's sessions while the browser is open (sync)."""
RECENT = Limits(pages=1, page_size=50)
"""A refresh asks for the newest page of the history only."""


class HistoryActions(AppCore):
    @work(exclusive=False)
    async def _open_session(
        self, session_id: str, url: str, token: str, fetch: bool = True
    ) -> None:
        """Show the session in a tab, with the backend's history of it if it keeps one (a
        session made on another device); without it (or `fetch` False), what this machine
        has."""
        remote = None
        try:
            remote = await fetch_history(url, token, session_id) if fetch else None
        except HistoryError as exc:
            self.notify(f"Session history not fetched: {exc}", severity="warning", timeout=8)
        if self.workspace is None:
            return
        history = from_backend(remote, self.workspace.device_id) if remote else None
        shown = inert_name(session_id)
        try:
            tab = self.workspace.open_session(session_id, history)
        except TabLimitReached as exc:
            self.notify(f"Session {shown} not opened: {exc}", severity="warning")
            return
        source = "from the backend" if remote else "from this machine's history"
        count = len(tab.messages) + tab.earlier
        self.notify(f"Opened session {shown}: {count} messages {source}.", timeout=5)
        if remote is not None and remote.cut:
            self.notify(f"Session history incomplete: {remote.cut}", severity="warning")

    def action_sessions(self) -> None:
        """The session browser: this machine's sessions at once, the backend's when it
        answers."""
        workspace = self.workspace
        if workspace is None or self._in_dialog():
            return
        store = workspace.store

        def local() -> list[LocalSession]:
            try:
                every = store.sessions()
            except StoreError as exc:
                self.notify(str(exc), severity="error")
                return []
            return [s for s in every if s.backend in ("", workspace.backend)]

        me = workspace.device_id
        browser = SessionBrowser(merge([], local(), me), "Asking the backend for its sessions…")

        def chosen(row: SessionRow | None) -> None:
            if row is None:
                return
            if tab := next((t for t in workspace.tabs if t.session_id == row.session_id), None):
                workspace.select(tab.tab_id)
                return
            self._open_session(row.session_id, workspace.base_url, workspace.token, row.on_backend)

        self.push_screen(browser, chosen)
        self._list_sessions(browser, lambda remote: merge(remote, local(), me))

    @work(exclusive=True, group="sessions")
    async def _list_sessions(
        self, browser: SessionBrowser, rows: Callable[[list[RemoteSession]], list[SessionRow]]
    ) -> None:
        """The backend's sessions, into the browser; with sync, again every LIVE_EVERY
        seconds while it is open (which are replying, and on which devices, changes)."""
        workspace = self.workspace
        assert workspace is not None
        live = any(t.connection and t.connection.protocol.sync for t in workspace.tabs)
        while True:
            listing = SessionListing()
            try:
                listing = await list_sessions(workspace.base_url)
            except HistoryError as exc:
                note = f"Only this machine's sessions: {exc}"
            else:
                shown = rows(listing)
                others = sum(1 for r in shown if r.other_device)
                busy = sum(1 for r in shown if r.busy)
                note = f"{len(listing):,} on the backend, {others} from other devices"
                note += f", {busy} replying now (kept up to date)" if live else ""
                if listing.note:
                    note += f"; {listing.note}"
            if not browser.is_attached:
                return
            browser.update(rows(listing), note)
            if not live:
                return
            await asyncio.sleep(LIVE_EVERY)
            if not browser.is_attached:
                return

    @work(exclusive=True, group="refresh")
    async def _refresh_shown(self) -> None:
        """Against a server without sync but with a session history: the shown tab asks for
        its session's newest messages (every REFRESH_EVERY seconds), so another
        device's turns appear (docs/chat.md)."""
        workspace = self.workspace
        if workspace is None or not workspace.refreshable(workspace.selected_id or ""):
            return
        tab = workspace.selected
        try:
            remote = await fetch_history(
                workspace.base_url, workspace.token, tab.session_id, limits=RECENT
            )
        except HistoryError as exc:
            log.info("refreshing %s: %s", tab.session_id, exc)
            return
        if remote and workspace.tab(tab.tab_id) is tab:
            workspace.absorb(tab.tab_id, from_backend(remote, workspace.device_id))

    def action_search_all(self) -> None:
        if self.workspace is None or self._in_dialog():
            return
        store = self.workspace.store
        dialog = SearchHistory(store.search, self._last_search)

        def chosen(hit: SearchHit | None) -> None:
            self._last_search = dialog.text
            if hit is not None:
                self._open_hit(hit, dialog.text)

        self.push_screen(dialog, chosen)

    @work(exclusive=False)
    async def _open_hit(self, hit: SearchHit, text: str) -> None:
        """Open the result's session in its tab (this machine's history) and show the
        message there, found."""
        assert self.workspace is not None
        try:
            tab = self.workspace.open_session(hit.session_id)
        except TabLimitReached as exc:
            self.notify(f"Not opened: {exc}", severity="warning")
            return
        await self.settled()  # the tab is shown: its conversation has a size
        if (view := self.view(tab.tab_id)) is not None:
            view.enqueue(Reveal(hit.msg_id, hit.row, text))

    def action_export(self, format: str) -> None:
        if self.workspace is None or self._in_dialog():
            return
        tab, store = self.workspace.selected, self.workspace.store
        stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
        name = re.sub(r"[^\w.-]+", "-", tab.title).strip("-") or tab.provider
        suggested = Path.cwd() / f"{name}-{stamp}.{format}"
        what = f"“{tab.title}” as {'JSON' if format == 'json' else 'Markdown'}"

        def write_to(path: Path | None) -> None:
            if path is None:
                return
            try:
                conversation = local_conversation(store, tab.session_id)
                if conversation is None:
                    self.notify("Nothing to export yet: no message in this tab.")
                    return
                write(conversation, format, path)
            except (StoreError, OSError) as exc:
                self.notify(f"Not exported: {exc}", severity="error")
                return
            count = len(conversation.messages)
            self.notify(f"Exported {count} messages to {path}.", timeout=6)

        self.push_screen(ExportTo(what, suggested), write_to)
