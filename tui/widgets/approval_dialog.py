"""The agent asks before it runs a tool (docs/protocol.md §4.3): what it wants to do (the
command, the edit as a diff), and three answers, each a key: y allow once, a allow for the
session, n deny. Escape puts the question off (it stays open, for this device or another)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui.client.activity import ICONS, Approval
from tui.client.inert import inert_line
from tui.widgets.conversation.work import item_details

ANSWERS = {"yes": "allow_once", "session": "allow_session", "no": "deny"}


class ApprovalDialog(ModalScreen[str | None]):
    """Dismissed with the decision (`allow_once`, `allow_session`, `deny`), or None: later."""

    BINDINGS = [
        Binding("y", "answer('allow_once')", "Allow once", priority=True),
        Binding("a", "answer('allow_session')", "Allow for this session", priority=True),
        Binding("n", "answer('deny')", "Deny", priority=True),
        Binding("escape", "later", "Decide later"),
    ]

    def __init__(self, approval: Approval, tab_title: str) -> None:
        super().__init__()
        self.approval = approval
        self.tab_title = tab_title

    def compose(self) -> ComposeResult:
        item = self.approval.item
        with Vertical(classes="dialog approval"):
            yield Label(
                f"{inert_line(self.tab_title)} asks: {ICONS.get(item.kind, '•')} "
                f"{inert_line(item.title)}",
                classes="dialog-title",
                markup=False,
            )
            with VerticalScroll(classes="approval-details"):
                yield Static(item_details(item), markup=False)
            options = self.approval.options
            with Horizontal(classes="dialog-buttons"):
                if "allow_once" in options:
                    yield Button("Allow once (y)", variant="success", id="yes")
                if "allow_session" in options:
                    yield Button("For this session (a)", variant="primary", id="session")
                yield Button("Deny (n)", variant="error", id="no")
            yield Label(
                "Escape: decide later (the agent waits; another device may answer)",
                classes="dialog-hint",
            )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(ANSWERS.get(event.button.id or "", "deny"))

    def action_answer(self, decision: str) -> None:
        if decision in self.approval.options or decision == "deny":
            self.dismiss(decision)

    def action_later(self) -> None:
        self.dismiss(None)
