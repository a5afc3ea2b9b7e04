"""Finding text in the history: a term as a pattern, SQLite's `occurrences` function, FTS5
phrases and LIKE escapes, and a hit's snippet with its matches marked."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=8)
def text_pattern(term: str) -> re.Pattern[str]:
    """The text as typed, any case; nothing in it is a regular expression."""
    return re.compile(re.escape(term), re.IGNORECASE)


def occurrences(text: object, term: object) -> int:
    """SQLite's `occurrences(text, term)`: case-insensitive in every script (LIKE and lower()
    fold ASCII only)."""
    if not isinstance(text, str) or not isinstance(term, str) or not term:
        return 0
    return sum(1 for _ in text_pattern(term).finditer(text))


def marked(
    raw: str, fulltext: bool, words: list[str]
) -> tuple[str, str, tuple[tuple[int, int], ...]]:
    """A search result's snippet bracketed, plain, and where its matches are. The index marks
    them (ASCII STX and ETX); a scan finds the words again."""
    raw = " ".join(raw.split())
    marks: list[tuple[int, int]] = []
    if fulltext:
        plain = ""
        for number, piece in enumerate(raw.replace("\x03", "\x02").split("\x02")):
            if number % 2:
                marks.append((len(plain), len(plain) + len(piece)))
            plain += piece
    else:
        plain = raw
        for word in words:
            marks.extend(m.span() for m in text_pattern(word).finditer(plain))
        marks.sort()
    snippet, done = "", 0
    for start, end in marks:
        if start >= done:
            snippet += f"{plain[done:start]}[{plain[start:end]}]"
            done = end
    return snippet + plain[done:], plain, tuple(marks)


def phrase(word: str) -> str:
    """A word as an FTS5 string: quotes, operators and brackets lose their meaning."""
    return '"' + word.replace('"', '""') + '"'


def like_escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
