"""Guards for what the code cites: the spec in the repository, cited by its real numbers.

Every `§N` or `§N.M` in the code names a numbered heading of docs/protocol.md (`# Part N`,
`## N.M …`), every `docs/….md` it names exists, and nothing cites a file or an issue tracker
the repository does not have.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"
SCANNED = ("tui", "mock_backend", "harness", "builderos", "tests", "benchmarks")
THIS = Path(__file__).resolve()

PENDING: frozenset[str] = frozenset()
"""Files whose citations are still to be fixed (none: every file is checked)."""

HEADING = re.compile(r"^#\s+Part\s+(\d+)\b|^#{2,}\s+(\d+(?:\.\d+)+)\s", re.MULTILINE)
SECTION = re.compile(r"§\s*(\d+(?:\.\d+)*)")
PROTOCOL_CITATION = re.compile(r"docs/protocol\.md\s+§\s*(\d+(?:\.\d+)*)")
DOC_FILE = re.compile(r"\bdocs/[\w./-]+\.md\b")
FOREIGN = re.compile(r"CONTRACT\.md|\b[Ii]ssue \d+")


def numbered_headings() -> set[str]:
    """The section numbers docs/protocol.md has: `1` for `# Part 1`, `1.2` for `## 1.2 …`."""
    text = PROTOCOL.read_text(encoding="utf-8")
    return {part or section for part, section in HEADING.findall(text)}


def sources() -> list[tuple[str, str]]:
    """(path relative to the root, text) of every scanned .py file but this one and PENDING."""
    found: list[tuple[str, str]] = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if path.resolve() == THIS or relative in PENDING:
                continue
            found.append((relative, path.read_text(encoding="utf-8")))
    return found


def places(pattern: re.Pattern[str], text: str) -> list[tuple[int, re.Match[str]]]:
    """Each match with its 1-based line number."""
    return [(text.count("\n", 0, m.start()) + 1, m) for m in pattern.finditer(text)]


def test_protocol_numbers_its_parts_and_sections() -> None:
    headings = numbered_headings()
    assert {"1", "2", "3", "1.1", "1.5", "2.1", "2.6"} <= headings, sorted(headings)


def test_every_section_cited_is_a_numbered_heading_of_the_protocol() -> None:
    """`docs/protocol.md §X.Y`, and any bare `§X.Y` after it (`§1.2 and §2`): all code here
    numbers sections the way docs/protocol.md does, so each number must be one of its headings."""
    headings = numbered_headings()
    cited = 0
    wrong: list[str] = []
    for path, text in sources():
        cited += len(PROTOCOL_CITATION.findall(text))
        for line, match in places(SECTION, text):
            if match.group(1) not in headings:
                wrong.append(f"{path}:{line}: §{match.group(1)}")
    assert cited >= 10, f"only {cited} docs/protocol.md citations found: is the pattern stale?"
    assert not wrong, f"not a numbered heading of docs/protocol.md ({sorted(headings)}): {wrong}"


def test_every_doc_cited_exists() -> None:
    missing = [
        f"{path}:{line}: {match.group(0)}"
        for path, text in sources()
        for line, match in places(DOC_FILE, text)
        if not (ROOT / match.group(0)).is_file()
    ]
    assert not missing, missing


def test_nothing_cites_a_file_or_issue_the_repository_does_not_have() -> None:
    foreign = [
        f"{path}:{line}: {match.group(0)}"
        for path, text in sources()
        for line, match in places(FOREIGN, text)
    ]
    assert not foreign, foreign
