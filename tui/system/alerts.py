"""Telling the user a reply ended in a tab they are not looking at: the terminal's bell, a
desktop notification, both, or nothing (picked from the palette, kept in the settings).

A desktop notification is the machine's own notifier (`osascript` on macOS, `notify-send`
elsewhere), started and not waited for: the chat never stalls on it. Escape sequences some
terminals turn into notifications are not used: they need the terminal's output stream, which
Textual owns, and tmux drops them by default.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Literal

Alert = Literal["bell", "desktop", "both", "off"]
ALERTS: tuple[Alert, ...] = ("bell", "desktop", "both", "off")
DEFAULT: Alert = "bell"
SETTING = "reply_alert"
NAMES: dict[Alert, str] = {
    "bell": "ring the terminal bell",
    "desktop": "a desktop notification",
    "both": "the bell and a desktop notification",
    "off": "nothing",
}


def parse(value: str | None) -> Alert:
    return next((a for a in ALERTS if a == value), DEFAULT)


def notifier() -> list[str] | None:
    """The command that shows a desktop notification here (the text goes last), or None."""
    if sys.platform == "darwin" and shutil.which("osascript"):
        return [
            "osascript",
            "-e",
            "on run argv",
            "-e",
            "display notification (item 2 of argv) with title (item 1 of argv)",
            "-e",
            "end run",
        ]
    if shutil.which("notify-send"):
        return ["notify-send", "--app-name=BuilderOS Terminal"]
    return None


def notify_desktop(title: str, body: str) -> str | None:
    """Show a desktop notification; returns why not, if it could not be shown."""
    command = notifier()
    if command is None:
        return "no desktop notifier here (notify-send, or osascript on macOS)"
    try:
        subprocess.Popen(
            [*command, title, body[:200]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        return f"the desktop notifier did not start ({exc})"
    return None
