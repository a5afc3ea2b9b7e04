"""Copy text to the system clipboard, and say truthfully where it went.

A clipboard tool (pbcopy, wl-copy, xclip, xsel) is certain. Without one the text goes to the
terminal as OSC 52, which many terminals ignore, tmux among them unless `set-clipboard` is
on: the notice says so. Inside tmux the text also goes into tmux's paste buffer (prefix ]
pastes it), which works whatever the terminal does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping

_TOOLS = (
    ("pbcopy",),
    ("wl-copy",),
    ("xclip", "-selection", "clipboard"),
    ("xsel", "--clipboard", "--input"),
)
OSC52_CAVEAT = "the terminal may ignore it"


def _run(command: tuple[str, ...], text: str) -> bool:
    try:
        subprocess.run(command, input=text.encode(), check=True, timeout=3, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def copy_text(
    text: str, fallback: Callable[[str], None], env: Mapping[str, str] | None = None
) -> str:
    """Copy with the first clipboard tool that works; else `fallback` (OSC 52). Returns where
    the text went, as the notice says it."""
    env = os.environ if env is None else env
    for tool in _TOOLS:
        if shutil.which(tool[0]) and _run(tool, text):
            return tool[0]
    fallback(text)
    where = f"OSC 52 — {OSC52_CAVEAT}"
    if env.get("TMUX") and shutil.which("tmux") and _run(("tmux", "load-buffer", "-"), text):
        return f"{where}; also in tmux's paste buffer: prefix ] pastes it"
    if env.get("TMUX"):
        return f"{where}, and tmux does unless set-clipboard is on"
    return where
