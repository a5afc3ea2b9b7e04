"""How an agent's work is drawn inside its reply (docs/protocol.md §4.2): one line per tool call
(an icon by kind, the title, its status, the time it took), the plan as a checklist, and a tool
call's details when expanded (its input, its output folded, an edit as a coloured unified diff).
Pure Rich: no widget, testable without a screen. Everything shown is from the server: inert."""

from __future__ import annotations

import difflib

from rich.style import Style
from rich.text import Text

from tui.client.activity import ICONS, MARKS, SAID, ActivityItem, Answer, PlanEntry
from tui.client.inert import inert, inert_line

PLAN_MARKS = {"pending": "☐", "in_progress": "◐", "completed": "☑"}
SHOWN_LINES = 20
"""Lines of a tool call's input or output shown when it is expanded; the rest are counted."""
SHOWN_DIFF = 200

DIM = Style(dim=True)
DONE = Style(color="green")
FAILED = Style(color="red")
ASKING = Style(color="yellow", bold=True)
ADDED = Style(color="green")
REMOVED = Style(color="red")


def item_line(item: ActivityItem, answer: Answer | None = None) -> Text:
    """The tool call's one line, with how its question was answered if one was asked."""
    style = {"completed": DONE, "failed": FAILED, "pending": ASKING}.get(item.status, DIM)
    line = Text(f"{ICONS.get(item.kind, '•')} ", style=DIM)
    line.append(inert_line(item.title))
    line.append(f"  {MARKS[item.status]}", style=style)
    line.append(item.took, style=DIM)
    if answer is not None:
        said = f" · {SAID.get(answer.decision, answer.decision)} ({inert_line(answer.by)[:24]})"
        line.append(said, style=DIM)
    return line


def _folded(label: str, text: str, omitted: int) -> Text:
    lines = inert(text).splitlines()
    shown = Text(f"  {label}\n", style=DIM)
    for line in lines[:SHOWN_LINES]:
        shown.append(f"  │ {line}\n")
    more = len(lines) - SHOWN_LINES
    if more > 0 or omitted:
        said = [f"{more:,} more lines"] if more > 0 else []
        said += [f"{omitted:,} characters left out by the server"] if omitted else []
        shown.append(f"  │ … {', '.join(said)}\n", style=DIM)
    return shown


def diff_text(path: str, old: str, new: str) -> Text:
    """An edit as a unified diff, additions green and removals red."""
    lines = list(
        difflib.unified_diff(
            inert(old).splitlines(),
            inert(new).splitlines(),
            f"a/{inert_line(path)}",
            f"b/{inert_line(path)}",
            lineterm="",
        )
    )
    shown = Text()
    for line in lines[:SHOWN_DIFF]:
        style = (
            ADDED
            if line.startswith("+") and not line.startswith("+++")
            else REMOVED
            if line.startswith("-") and not line.startswith("---")
            else DIM
        )
        shown.append(f"  {line}\n", style=style)
    if len(lines) > SHOWN_DIFF:
        shown.append(f"  … {len(lines) - SHOWN_DIFF:,} more lines of the diff\n", style=DIM)
    return shown


def item_details(item: ActivityItem) -> Text:
    """What the tool call did, for its expanded view."""
    shown = Text()
    for loc in item.locations:
        where = f"{loc.path}:{loc.line}" if loc.line is not None else loc.path
        shown.append(f"  @ {inert_line(where)}\n", style=DIM)
    if item.input:
        shown.append_text(_folded("input", item.input, item.input_omitted))
    if item.diff is not None:
        shown.append_text(diff_text(item.diff.path, item.diff.old, item.diff.new))
    if item.output:
        shown.append_text(_folded("output", item.output, item.output_omitted))
    if not shown:
        shown.append("  (nothing more to show)\n", style=DIM)
    shown.rstrip()
    return shown


def plan_text(plan: tuple[PlanEntry, ...]) -> Text:
    """The plan as a checklist, at the top of its reply."""
    shown = Text("Plan\n", style=Style(bold=True))
    for entry in plan:
        style = (
            DONE
            if entry.status == "completed"
            else ASKING
            if entry.status == "in_progress"
            else Style()
        )
        shown.append(f"{PLAN_MARKS.get(entry.status, '☐')} ", style=style)
        shown.append(f"{inert_line(entry.content)}\n")
    shown.rstrip()
    return shown
