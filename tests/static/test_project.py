"""Guards for what the project promises about itself: lint-clean code and a README that is true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer.main

from builderos.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_code_is_ruff_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command() -> None:
    command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert command in README


MANUAL = {
    "chat": "docs/chat.md",
    "send": "docs/cli.md",
    "watch": "docs/cli.md",
    "sessions": "docs/cli.md",
    "search": "docs/cli.md",
    "export": "docs/cli.md",
    "mock": "docs/mock.md",
    "check": "docs/check.md",
}
"""Where each subcommand's options are documented."""


def test_the_manual_documents_every_subcommand_and_option() -> None:
    group = typer.main.get_command(app)
    assert set(group.commands) == set(MANUAL)  # type: ignore[attr-defined]
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        page = (ROOT / MANUAL[name]).read_text(encoding="utf-8")
        assert f"builderos {name}" in page, f"{MANUAL[name]} does not name builderos {name}"
        assert MANUAL[name] in README, f"README does not point to {MANUAL[name]}"
        for param in command.params:
            for option in param.opts:
                if option.startswith("--") and option != "--help":
                    assert f"`{option}" in page, f"builderos {name} {option}: not in {MANUAL[name]}"


def test_every_link_between_the_documents_resolves() -> None:
    """README, CHANGELOG and docs/ link to each other, never outside the repository."""
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            assert not target.startswith(("http:", "https:")), f"{page.name} links out: {target}"
            path = target.split("#", 1)[0]
            if path:
                assert (page.parent / path).exists(), f"{page.name}: {target} does not exist"


def test_every_file_the_documents_name_exists() -> None:
    """A path in backquotes (`tui/model/reply.py`, `tests/...`) names a file that is there: a
    move that forgets the manual fails here."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    roots = "tui|mock_backend|harness|builderos|localdata|tests|benchmarks|docs"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for path in re.findall(rf"`((?:{roots})/[\w/.-]+\.(?:py|md|tcss))`", text):
            assert (ROOT / path).exists(), f"{page.name} names {path}, which does not exist"


def test_help_texts_are_whole_sentences_at_any_width() -> None:
    """A line break inside a paragraph of a command's help shows as a break mid-sentence in
    Rich's help ("and validate a / backend"): paragraphs only."""
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        for paragraph in (command.help or "").split("\n\n"):
            assert "\n" not in paragraph, f"builderos {name}: {paragraph!r}"
        for param in command.params:
            assert "\n" not in (getattr(param, "help", None) or ""), f"{name} {param.name}"
