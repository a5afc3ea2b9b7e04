"""The tab bar: draws the workspace's tabs and which one is selected, and reports clicks.

One way only. The bar never decides which tab is selected: `show_selected` is told, and a
click posts `Picked`, which the app hands to the workspace (the one owner of the selection).
Textual's TabbedContent also makes a pane active when anything inside it takes the focus,
which let a late focus event undo a switch; nothing here listens to focus.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from tui.client.frames import DISPLAY_NAMES
from tui.client.inert import inert_line, inert_name
from tui.model.workspace import ChatTab

DOING_CHARS = 18
"""Characters of the agent's current call in its tab's label (the status line has it whole)."""


def tab_label(number: int, tab: ChatTab) -> str:
    """`2 ● Reviews · Codex ⋯`: its number (ctrl+g, then it), the connection, the title (with
    the provider when a rename hid it), and the agent asking (?), what it is doing (`⋯ Run
    pytest -q`), a reply being written (⋯) or unread (•)."""
    provider = DISPLAY_NAMES[tab.provider]
    shown = inert_name(tab.title)  # a title may carry another device's id
    title = shown if provider in shown else f"{shown} · {provider}"
    doing = tab.doing
    if tab.approvals:
        activity = " ?"
    elif doing is not None:
        activity = f" ⋯ {inert_line(doing.title)[:DOING_CHARS]}"
    else:
        activity = " ⋯" if tab.replying else " •" if tab.unread else ""
    return f"{number} {tab.state.icon} {title}{activity}"


class TabLabel(Static):
    def __init__(self, tab_id: str, label: str) -> None:
        super().__init__(label, id=label_id(tab_id), classes="tab-label", markup=False)
        self.tab_id = tab_id

    def on_click(self) -> None:
        self.post_message(TabBar.Picked(self.tab_id))


def label_id(tab_id: str) -> str:
    return f"label-{tab_id}"


class TabBar(Horizontal):
    """A row of tab labels; the selected one is marked `-selected`."""

    class Picked(Message):
        """The user clicked a tab: a wish, for the workspace to grant."""

        def __init__(self, tab_id: str) -> None:
            super().__init__()
            self.tab_id = tab_id

    def compose(self) -> ComposeResult:
        return iter(())

    def add(self, tab_id: str, label: str) -> AwaitComplete:
        return AwaitComplete(self.mount(TabLabel(tab_id, label)))

    def remove_tab(self, tab_id: str) -> AwaitComplete:
        return AwaitComplete(self._label(tab_id).remove())

    def relabel(self, tab_id: str, label: str, unread: bool = False) -> None:
        tab_label = self._label(tab_id)
        tab_label.update(label)
        tab_label.set_class(unread, "-unread")

    def has(self, tab_id: str) -> bool:
        return bool(self.query(f"#{label_id(tab_id)}"))

    def label_of(self, tab_id: str) -> str:
        """The label as drawn (tests and the harness read it)."""
        return str(self._label(tab_id).render())

    def show_selected(self, tab_id: str) -> None:
        for label in self.query(TabLabel):
            label.set_class(label.tab_id == tab_id, "-selected")

    def _label(self, tab_id: str) -> TabLabel:
        return self.query_one(f"#{label_id(tab_id)}", TabLabel)
