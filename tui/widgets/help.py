"""F1: the keys by group, where this app keeps its data, and the backend in use. The app's
own bindings are listed from its BINDINGS (so the screen cannot drift from them), with the
keys that belong to the message box and the conversation added."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

GROUPS: dict[str, tuple[str, ...]] = {
    "Message box": ("attach",),
    "Tabs": (
        "new_tab('claude')",
        "new_tab('codex')",
        "close_tab",
        "next_tab",
        "previous_tab",
        "pick_tab",
        "rename_tab",
        "reconnect",
    ),
    "Replies": ("stop_reply", "retry", "copy_last"),
    "Conversation": (
        "find",
        "scroll_page(-1)",
        "scroll_page(1)",
        "newest",
        "load_earlier",
        "toggle_times",
    ),
    "History": ("sessions", "search_all"),
    "App": ("help", "quit"),
}
EXTRA: dict[str, list[tuple[str, str]]] = {
    "Message box": [
        ("Enter", "send"),
        ("ctrl+j", "new line (shift+enter / alt+enter where the terminal reports them)"),
        ("↑ / ↓ (empty box)", "recall the messages sent in this tab"),
        ("End (empty box)", "back to the newest message"),
        ("@path in the text", "attach that file (relative to where builderos runs)"),
        ("paste a file's path", "attach the file (a file dropped on the terminal)"),
        ("Backspace (empty box)", "take the last attachment off (or click its ✕)"),
    ],
    "Conversation": [
        ("click a message / code block", "copy it as Markdown / the code alone"),
        ("drag, then ctrl+c", "copy the text selected with the mouse"),
        ("in find: Enter or ↑ / ↓ / Esc", "older match / newer match / close"),
    ],
    "App": [("ctrl+p", "command palette: every action by name, export, themes")],
}


def key_name(binding: Binding) -> str:
    return " or ".join(
        key.replace("pagedown", "PageDown").replace("pageup", "PageUp")
        for key in binding.key.split(",")
    )


def keys_table(bindings: list[Binding]) -> Table:
    by_action = {b.action: b for b in bindings}
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for group in GROUPS:
        table.add_row(Text(group, style="bold underline"), "")
        for action in GROUPS.get(group, ()):
            if (binding := by_action.get(action)) is not None:
                table.add_row(key_name(binding), binding.tooltip or binding.description)
        for key, what in EXTRA.get(group, []):
            table.add_row(key, what)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close help")]

    def __init__(self, bindings: list[Binding], data_dir: str, backend: str) -> None:
        super().__init__(classes="wide-dialog")
        self.bindings = bindings
        self.data_dir = data_dir
        self.backend = backend

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label("BuilderOS Terminal — help", classes="dialog-title")
            yield Static(keys_table(self.bindings))
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
