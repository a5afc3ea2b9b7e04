"""F1: the keys by group, where this app keeps its data, and the backend in use. The keys come
from tui.model.keys, the table the app's bindings are made from, so the screen cannot drift from
them."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.model import keys


def keys_table() -> Table:
    """Every key, by group (tui.model.keys: the app's bindings and the widgets' own keys)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for group, rows in keys.by_group().items():
        table.add_row(Text(group, style="bold underline"), "")
        for key in rows:
            table.add_row(keys.shown(key), key.tooltip)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close help")]

    def __init__(self, data_dir: str, backend: str) -> None:
        super().__init__(classes="wide-dialog")
        self.data_dir = data_dir
        self.backend = backend

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label("BuilderOS Terminal — help", classes="dialog-title")
            yield Static(keys_table())
            yield Static(
                Text.assemble(
                    ("Backend  ", "bold"),
                    self.backend,
                    "\n",
                    ("Data     ", "bold"),
                    self.data_dir,
                    " (history.db, chat.log; yours alone: 0600/0700)",
                )
            )
            yield Label("Esc, F1 or q closes", classes="dialog-hint")
