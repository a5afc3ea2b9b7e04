"""Modal dialogs: confirm closing a tab, rename a tab."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList

from tui.client.inert import inert_name


class ConfirmClose(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Close tab"),
        Binding("n,escape", "answer(False)", "Keep it"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.tab_title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                f"Close “{inert_name(self.tab_title)}”?", classes="dialog-title", markup=False
            )
            yield Label("Its session is closed on the backend; its history stays on disk.")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close tab (y)", variant="error", id="yes")
                yield Button("Keep it (n)", variant="primary", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class RenameTab(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.tab_title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Rename tab", classes="dialog-title")
            yield Input(  # a title may carry another device's id: shown as it reads
                inert_name(self.tab_title),
                placeholder="Title (empty: the provider's name)",
                max_length=40,
            )
            yield Label("Enter to save, Escape to cancel", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickTab(ModalScreen[int | None]):
    """Go to a tab: press its number, or pick it with the arrows and Enter."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        *(Binding(str(n), f"pick({n})", f"Tab {n}", show=False) for n in range(1, 6)),
    ]

    def __init__(self, titles: list[str], current: int) -> None:
        super().__init__()
        self.titles = titles
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Go to tab", classes="dialog-title")
            yield OptionList(
                *(f"{n}  {inert_name(title)}" for n, title in enumerate(self.titles, 1)),
                markup=False,
            )
            yield Label("1–5, or arrows and Enter; Escape to stay", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = self.current

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index + 1)

    def action_pick(self, number: int) -> None:
        if number <= len(self.titles):
            self.dismiss(number)

    def action_cancel(self) -> None:
        self.dismiss(None)
