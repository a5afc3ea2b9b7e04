"""The dialogs that reach past the open tabs: every session (F4), a search of all the history
on this machine (F6), and where to export a conversation. Each shows what it is given and
hands back the user's choice; the app fetches, opens and writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.client.inert import inert_line, inert_name
from tui.model.session_list import SessionRow, matching
from tui.store import SearchHit, StoreError


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ")


T = TypeVar("T")


class _FilteredList(ModalScreen[T | None], Generic[T]):
    """A text field over a list: typing filters or searches, the arrows move in the list
    while the field keeps the keys, Enter opens the highlighted row, Escape closes."""

    BINDINGS = [
        Binding("escape", "cancel", "Close"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
    ]
    TITLE = ""
    PLACEHOLDER = ""
    HINT = "Type to filter · ↑↓ choose · Enter opens · Esc closes"

    def __init__(self) -> None:
        super().__init__(classes="wide-dialog")
        self.rows: list[T] = []
        """The rows shown, in the list's order."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.TITLE, classes="dialog-title")
            yield Input(placeholder=self.PLACEHOLDER, id="filter", compact=True)
            yield OptionList(id="rows")
            yield Label("", id="note", classes="dialog-hint")
            yield Label(self.HINT, classes="dialog-hint")

    @property
    def options(self) -> OptionList:
        return self.query_one("#rows", OptionList)

    def set_note(self, text: str) -> None:
        self.query_one("#note", Label).update(text)

    def show_rows(self, rows: list[T], lines: Sequence[Text | Option]) -> None:
        """Show `rows`, drawn as `lines`; an `Option` kept from an earlier call is not laid
        out again (it keeps its rendering)."""
        self.rows = rows
        options = self.options
        options.clear_options()
        options.add_options([line if isinstance(line, Option) else Option(line) for line in lines])
        if rows:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refilter(event.value)

    def refilter(self, text: str) -> None:
        raise NotImplementedError

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        index = self.options.highlighted
        if index is not None and index < len(self.rows):
            self.dismiss(self.rows[index])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.rows[event.option_index])

    def action_move(self, delta: int) -> None:
        options = self.options
        if self.rows:
            current = options.highlighted or 0
            options.highlighted = max(0, min(len(self.rows) - 1, current + delta))

    def action_cancel(self) -> None:
        self.dismiss(None)


class SessionBrowser(_FilteredList[SessionRow]):
    """Every session within reach: the backend's and this machine's closed tabs. Each row's
    line is drawn and laid out once per list, not per keystroke: typing only picks options."""

    TITLE = "Sessions"
    PLACEHOLDER = "Filter: title, provider, device or id"
    SHOWN = 500
    """Rows in the list at most: laying out an option is what costs (about 0.3 ms each),
    and past a few hundred a person filters rather than scrolls."""

    def __init__(self, rows: list[SessionRow], note: str) -> None:
        super().__init__()
        self.every = rows
        self.note = note
        self._options = _options_of(rows)

    def on_mount(self) -> None:
        self.set_note(self.note)
        self.refilter("")

    def update(self, rows: list[SessionRow], note: str) -> None:
        """The backend answered: show its sessions too, keeping the filter."""
        self.every, self.note = rows, note
        self._options = _options_of(rows)
        self.set_note(note)
        self.refilter(self.query_one("#filter", Input).value)

    def refilter(self, text: str) -> None:
        matches = matching(self.every, text)
        rows = matches[: self.SHOWN]
        self.show_rows(rows, [self._options[id(row)] for row in rows])
        more = (
            f"; the first {len(rows):,} shown, type to narrow" if len(matches) > len(rows) else ""
        )
        if not rows:
            self.set_note(f"No session matches “{text}”." if text else self.note)
        elif text:
            self.set_note(f"{len(matches):,} of {len(self.every):,} sessions{more}")
        else:
            self.set_note(f"{self.note}{more}")


def _options_of(rows: list[SessionRow]) -> dict[int, Option]:
    """Each row's option, by the row's identity (rows are shown as given, never copied)."""
    return {id(row): Option(session_line(row)) for row in rows}


def session_line(row: SessionRow) -> Text:
    """One row as the browser shows it. Title, device and id are the server's or another
    device's text: shown inert (no control sequence acts, no invisible character disguises an
    id), and as plain `Text`, never markup."""
    mark = "●" if row.open_here else "↗" if row.other_device else "○"
    name = (
        inert_line(row.title) if row.title else ("Codex" if row.provider == "codex" else "Claude")
    )
    line = Text.assemble(
        (f"{mark} ", "bold" if row.open_here else ""),
        (f"{name:<16.16} ", "bold"),
        f"{row.messages:>5} msgs  {inert_line(_when(row.last_activity)):<16}  ",
        (inert_name(row.where), "italic"),
        ("" if row.on_backend else "  (only here)", "dim"),
        (
            f"  ? {row.asking} question{'s' if row.asking != 1 else ''}" if row.asking else "",
            "bold",
        ),
        (f"  {inert_line(row.live)}" if row.live else "", "bold"),
    )
    line.append(f"\n  {inert_name(row.session_id)}", style="dim")
    return line


class SearchHistory(_FilteredList[SearchHit]):
    """Every message on this machine that holds the words typed, newest first."""

    TITLE = "Search all history"
    PLACEHOLDER = "Words to find (the last one as a prefix)"
    HINT = "Type to search · ↑↓ choose · Enter opens it in its tab · Esc closes"

    def __init__(self, search: Callable[[str], list[SearchHit]], text: str = "") -> None:
        super().__init__()
        self.search = search
        self.text = text

    def on_mount(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = self.text
        self.refilter(self.text)

    def refilter(self, text: str) -> None:
        self.text = text
        try:
            hits = self.search(text) if text.strip() else []
        except StoreError as exc:
            self.show_rows([], [])
            self.set_note(f"Search failed: {exc}")
            return
        self.show_rows(hits, [hit_line(hit) for hit in hits])
        if not text.strip():
            self.set_note("Every message on this machine, closed tabs included.")
        else:
            count = len(hits)
            self.set_note(f"{count} message{'s' if count != 1 else ''}" if hits else "No match.")


def hit_line(hit: SearchHit) -> Text:
    """One search result; the excerpt (a message's text, often the server's) shown inert,
    its matches marked where they are."""
    where = inert_line(hit.title) if hit.title else "no tab"
    state = "" if not hit.tab_id else (" (open)" if hit.open else " (closed)")
    line = Text.assemble(
        (f"{where}{state}", "bold"), f" · {hit.role} · {inert_line(_when(hit.timestamp))}\n  "
    )
    excerpt = Text()
    done = 0
    for start, end in sorted(hit.marks):
        start = max(start, done)
        if end <= start:
            continue  # within a match already marked
        excerpt.append(inert_line(hit.excerpt[done:start]))
        excerpt.append(inert_line(hit.excerpt[start:end]), "bold reverse")
        done = end
    excerpt.append(inert_line(hit.excerpt[done:]))
    return line + excerpt


class ExportTo(ModalScreen[Path | None]):
    """Where to write an exported conversation."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str, suggested: Path) -> None:
        super().__init__()
        self.what = what
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Export {self.what}", classes="dialog-title")
            yield Input(str(self.suggested), placeholder="File to write")
            yield Label(
                "Enter writes (readable by you only), Escape cancels", classes="dialog-hint"
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self.dismiss(Path(value).expanduser() if value else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
