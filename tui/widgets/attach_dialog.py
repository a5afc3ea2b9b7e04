"""Attach a file (ctrl+t): type a path, completed as you type (→ takes the completion), or
pick it in the tree of the working directory."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import DirectoryTree, Input, Label

from tui.model.attachment_tray import pasted_path


class PathSuggester(Suggester):
    """Completes the last part of a path with the first entry of its folder that starts
    with it (folders end with /)."""

    def __init__(self, base: Path) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.base = base

    async def get_suggestion(self, value: str) -> str | None:
        # in a thread: a folder on a slow or network disk must not stall typing
        return await asyncio.to_thread(self.complete, value) if value else None

    def complete(self, value: str) -> str | None:
        folder, slash, start = value.rpartition("/")
        where = Path(folder or "/").expanduser() if slash else Path()
        if not where.is_absolute():
            where = self.base / where
        try:
            names = sorted(e.name for e in os.scandir(where) if not e.name.startswith("."))
        except OSError:
            return None
        for name in names:
            if name.startswith(start) and name != start:
                suffix = "/" if (where / name).is_dir() else ""
                return value + name[len(start) :] + suffix
        return None


class _VisibleTree(DirectoryTree):
    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if not path.name.startswith(".")]


class AttachFile(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, base: Path) -> None:
        super().__init__(classes="wide-dialog")
        self.base = base

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Attach a file", classes="dialog-title")
            yield Input(
                placeholder="Path (→ completes), or pick below",
                suggester=PathSuggester(self.base),
                id="path",
                compact=True,
            )
            yield Label("", id="problem", classes="dialog-hint", markup=False)
            yield _VisibleTree(self.base, id="tree")
            yield Label(
                f"In {self.base} · Tab to the tree · Enter attaches · Esc cancels",
                classes="dialog-hint",
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = pasted_path(event.value, self.base)
        if path is None:
            shown = event.value.strip() or "nothing"
            self.query_one("#problem", Label).update(f"Not a file: {shown}")
            return
        self.dismiss(path)

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(event.path)

    def action_cancel(self) -> None:
        self.dismiss(None)
