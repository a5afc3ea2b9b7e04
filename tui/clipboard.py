"""Copy text to the system clipboard, falling back to the terminal's OSC 52."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

_TOOLS = (
    ("pbcopy",),
    ("wl-copy",),
    ("xclip", "-selection", "clipboard"),
    ("xsel", "--clipboard", "--input"),
)


def copy_text(text: str, fallback: Callable[[str], None]) -> str:
    """Copy with the first clipboard tool found; else `fallback` (OSC 52). Returns how."""
    for tool in _TOOLS:
        if shutil.which(tool[0]):
            try:
                subprocess.run(
                    tool, input=text.encode(), check=True, timeout=3, capture_output=True
                )
                return tool[0]
            except (OSError, subprocess.SubprocessError):
                continue
    fallback(text)
    return "terminal clipboard, OSC 52"
