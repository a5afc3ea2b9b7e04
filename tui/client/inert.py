"""One rule for text from outside (docs/safety.md): it is shown, never obeyed.

Text from a server (a reply, an error, an id, a file name) can carry terminal control sequences
(`ESC ]52;c;…` writes the clipboard, `ESC ]0;…` the window title, `ESC [2J` clears the screen).
Whatever is drawn on a terminal passes through here first: every control character becomes a
visible stand-in from Unicode's Control Pictures block (ESC → `␛`, BEL → `␇`), so the sequence
is readable and inert. Ids and file names also show the invisible characters that make one name
look like another (bidi overrides, zero-width characters) as `⟨U+202E⟩`.

What is stored, exported to a file or written to a pipe stays as the server sent it: only the
terminal gets the inert form (`for_stream`). Remote text is never parsed as markup either: the
UI builds `rich.text.Text` / Textual `Content` from it as plain text.
"""

from __future__ import annotations

import re
from typing import TextIO

_C0 = range(0x00, 0x20)
_C1 = range(0x80, 0xA0)

_OVERRIDES = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
"""Bidi embeddings, overrides and isolates: they reorder what follows, so code can read one way
and run another ("Trojan Source"); shown in all text. The marks natural text uses (LRM, RLM)
and the joiners emoji need stay in prose."""

_TABLE: dict[int, str] = {code: chr(0x2400 + code) for code in _C0}
_TABLE[0x7F] = "\u2421"  # ␡
_TABLE.update({code: f"⟨U+{code:04X}⟩" for code in [*_C1, *_OVERRIDES]})
_LINES = {code: shown for code, shown in _TABLE.items() if code not in (0x09, 0x0A)}
"""Multi-line text keeps its tabs and line breaks; `\r` is still shown (it rewrites a line)."""

_INVISIBLE = [
    0x061C,  # arabic letter mark
    0x180E,  # mongolian vowel separator
    *range(0x200B, 0x2010),  # zero-width space, (non-)joiner, LRM, RLM
    *range(0x2028, 0x202F),  # line/paragraph separators, bidi embeddings and overrides
    *range(0x2060, 0x2070),  # word joiner, invisible operators, bidi isolates
    0xFEFF,  # zero-width no-break space (BOM)
    *range(0xFFF9, 0xFFFC),  # interlinear annotations
    *range(0xE0000, 0xE0080),  # tag characters ("ASCII smuggling")
]
_NAME = {**_TABLE, **{code: f"⟨U+{code:04X}⟩" for code in _INVISIBLE}}

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAME_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def inert(text: str) -> str:
    """Multi-line text (a reply, a notice) as it may reach a terminal: tabs and line breaks
    kept, every other control character shown as its stand-in."""
    if not _CONTROL.search(text):
        return text  # the common case costs one scan in C
    return text.translate(_LINES)


def inert_line(text: str) -> str:
    """One line (a title, a status, a list row): line breaks and tabs are shown too."""
    return text.translate(_TABLE)


def inert_name(text: str) -> str:
    """An id or a file name: controls and the invisible characters that disguise a name
    are shown, so two names that differ look different."""
    if not _NAME_UNSAFE.search(text):
        return text
    return text.translate(_NAME)


def is_inert(text: str) -> bool:
    """Nothing in `text` would act on a terminal (tests and the hostile-server checks)."""
    return not _CONTROL.search(text)


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream is no terminal
        return False


def for_stream(text: str, stream: TextIO) -> str:
    """What to write to `stream`: as it came for a pipe or a file (scripts get what the agent
    said), inert for a terminal."""
    return inert(text) if is_terminal(stream) else text
