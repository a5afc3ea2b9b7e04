"""Every key of the app, in one table: the app's bindings, the bottom line, F1 help and the
command palette are all derived from it, so they cannot disagree.

Plain data (no Textual): `tui.app` turns the bound rows into Textual `Binding`s, keyed by the
row's `id` (a stable name a keymap can refer to, as posting does). Keys that belong to a widget
(the message box, the conversation) are listed with `bound=False`: F1 shows them, and the
widget binds them itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    id: str
    """Stable name of the binding (`app.help`)."""
    keys: str
    """Textual key names, comma-separated; for an unbound row, how F1 shows the key."""
    action: str
    label: str
    """Short, for the bottom line."""
    tooltip: str
    """Long, for F1 and the command palette."""
    group: str
    """Where F1 lists it."""
    rank: int | None = None
    """Place on the bottom line, best first (a narrow terminal keeps the first); None: not
    there."""
    priority: bool = False
    """Handled before the focused widget: a key that opens a dialog, so the key typed next
    reaches the dialog, not the message box."""
    show: bool = True
    bound: bool = True
    """False: a widget's own key (or Textual's), listed for F1 only."""


GROUPS = ("Message box", "Tabs", "Replies", "Conversation", "History", "App")
"""F1's groups, in order."""

KEYS: tuple[Key, ...] = (
    Key("app.help", "f1", "help", "Help", "Help: keys, data, backend", "App", 0, priority=True),
    Key("app.palette", "ctrl+p", "command_palette", "Palette",
        "command palette: every action by name, export, themes", "App", 1, bound=False),
    Key("app.attach", "ctrl+t", "attach", "Attach", "Attach a file to the message",
        "Message box", 2, priority=True),
    Key("app.new_claude", "ctrl+n", "new_tab('claude')", "+Claude", "New Claude tab", "Tabs", 3),
    Key("app.new_codex", "ctrl+o", "new_tab('codex')", "+Codex", "New Codex tab", "Tabs", 4),
    Key("app.stop", "escape", "stop_reply", "Stop", "Stop the reply being written", "Replies", 5),
    Key("app.retry", "ctrl+r", "retry", "Retry", "Send again (not confirmed, or no full reply)",
        "Replies", 6),
    Key("app.quit", "ctrl+q", "quit", "Quit", "Quit (tabs, drafts, history kept)", "App", 7,
        priority=True),
    Key("app.find", "ctrl+f", "find", "Find", "Find in this tab", "Conversation", 8,
        priority=True),
    Key("app.sessions", "f4", "sessions", "Sessions",
        "Sessions: the backend's and this machine's; open one in a tab", "History", 9,
        priority=True),
    Key("app.search_all", "f6", "search_all", "Search", "Search all history (every tab)",
        "History", 10, priority=True),
    Key("app.copy_last", "ctrl+l", "copy_last", "Copy", "Copy the last reply", "Replies", 11),
    Key("app.close_tab", "f8", "close_tab", "Close", "Close tab (asks first)", "Tabs", 12,
        priority=True),
    Key("app.next_tab", "ctrl+pagedown,alt+right", "next_tab", "Next", "Next tab", "Tabs", 13),
    Key("app.previous_tab", "ctrl+pageup,alt+left", "previous_tab", "Prev", "Previous tab",
        "Tabs", show=False),
    Key("app.pick_tab", "ctrl+g", "pick_tab", "Go to tab",
        "Go to tab 1–5 (then press its number)", "Tabs", 14, priority=True),
    Key("app.rename_tab", "f2", "rename_tab", "Rename", "Rename tab", "Tabs", 15, priority=True),
    Key("app.reconnect", "f5", "reconnect", "Reconnect", "Reconnect now", "Tabs", 16),
    # the conversation scrolls while the message box keeps the focus
    Key("app.page_up", "pageup", "scroll_page(-1)", "Page up", "Page up", "Conversation",
        priority=True, show=False),
    Key("app.page_down", "pagedown", "scroll_page(1)", "Page down", "Page down",
        "Conversation", priority=True, show=False),
    Key("app.newest", "ctrl+end", "newest", "Newest", "Back to the newest message",
        "Conversation", show=False),
    Key("app.earlier", "f3", "load_earlier", "Earlier", "Load earlier messages", "Conversation",
        show=False),
    Key("app.times", "f9", "toggle_times", "Times", "Show or hide the messages' times",
        "Conversation"),
    Key("app.details", "f7", "toggle_details", "Details",
        "Show or hide every tool call's details (input, output, diff)", "Conversation",
        priority=True),  # the message box would take F7 as "select all"
    Key("app.work_previous", "alt+up", "choose_work(-1)", "Tool ↑",
        "Choose the tool call before (the newest first); Enter in an empty box expands it",
        "Conversation", show=False),
    Key("app.work_next", "alt+down", "choose_work(1)", "Tool ↓",
        "Choose the tool call after (past the newest: none)", "Conversation", show=False),
    # the message box's and the conversation's own keys
    Key("box.send", "Enter", "", "", "send", "Message box", bound=False),
    Key("box.new_line", "ctrl+j", "", "",
        "new line (shift+enter / alt+enter where the terminal reports them)", "Message box",
        bound=False),
    Key("box.recall", "↑ / ↓ (empty box)", "", "", "recall the messages sent in this tab",
        "Message box", bound=False),
    Key("box.newest", "End (empty box)", "", "", "back to the newest message", "Message box",
        bound=False),
    Key("box.mention", "@path in the text", "", "",
        "attach that file (relative to where builderos runs)", "Message box", bound=False),
    Key("box.paste_path", "paste a file's path", "", "",
        "attach the file (a file dropped on the terminal)", "Message box", bound=False),
    Key("box.detach", "Backspace (empty box)", "", "",
        "take the last attachment off (or click its ✕)", "Message box", bound=False),
    Key("log.click", "click a message / code block", "", "",
        "copy it as Markdown / the code alone", "Conversation", bound=False),
    Key("log.select", "drag, then ctrl+c", "", "", "copy the text selected with the mouse",
        "Conversation", bound=False),
    Key("log.tool", "click a tool call, or Enter (empty box) on the chosen one", "", "",
        "show or hide its input, output or diff", "Conversation", bound=False),
    Key("find.keys", "in find: Enter or ↑ / ↓ / Esc", "", "",
        "older match / newer match / close", "Conversation", bound=False),
)  # fmt: skip


def footer() -> list[Key]:
    """The bottom line's keys, best first."""
    return sorted((k for k in KEYS if k.rank is not None), key=lambda k: k.rank or 0)


def by_group() -> dict[str, list[Key]]:
    """F1's groups and their keys: bound keys first, then the widgets' own, each in table
    order."""
    grouped: dict[str, list[Key]] = {group: [] for group in GROUPS}
    for key in sorted(KEYS, key=lambda k: not k.bound):
        grouped[key.group].append(key)
    return grouped


def shown(key: Key) -> str:
    """`ctrl+pagedown or alt+right`: how F1 names a row's keys (an unbound row's as written)."""
    if not key.bound:
        return key.keys
    return " or ".join(
        name.replace("pagedown", "PageDown").replace("pageup", "PageUp")
        for name in key.keys.split(",")
    )
