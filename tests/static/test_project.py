"""Guards for what the project promises about itself: lint-clean code and a README that is true."""

from __future__ import annotations

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


def test_readme_documents_every_subcommand_and_option() -> None:
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert f"builderos {name}" in README, name
        for param in command.params:
            for option in param.opts:
                if option.startswith("--") and option != "--help":
                    assert f"`{option}" in README, f"builderos {name} {option}"


def test_help_texts_are_whole_sentences_at_any_width() -> None:
    """A line break inside a paragraph of a command's help shows as a break mid-sentence in
    Rich's help ("and validate a / backend"): paragraphs only."""
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        for paragraph in (command.help or "").split("\n\n"):
            assert "\n" not in paragraph, f"builderos {name}: {paragraph!r}"
        for param in command.params:
            assert "\n" not in (getattr(param, "help", None) or ""), f"{name} {param.name}"
