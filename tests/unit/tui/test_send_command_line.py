"""A plain `builderos send` command line is read without Typer (tui.commands.send_run); these
keep that reading and Typer's the same, so an option added to one and not the other fails."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import typer
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.exceptions import TyperException

from builderos.typer_app import build
from tui.commands.send_run import TAKES_VALUE, command_line, run

SEND = typer.main.get_command(build(["send"])).commands["send"]  # type: ignore[attr-defined]


def typer_reads(args: list[str]) -> dict[str, Any] | None:
    """What Typer hands `send` for this command line (None: it refuses it)."""
    try:
        return dict(SEND.make_context("send", list(args)).params)
    except (TyperException, typer.Exit):
        return None


def test_both_know_every_option_under_the_same_name() -> None:
    options = {p.opts[0]: p.name for p in SEND.params if p.opts[0].startswith("--")}
    assert options == {**TAKES_VALUE, "--json": "as_json"}


def test_both_have_the_same_defaults() -> None:
    defaults = {
        name: p.default for name, p in inspect.signature(run).parameters.items() if name != "demo"
    }
    typer_defaults = {p.name: p.default for p in SEND.params}
    assert defaults == {**typer_defaults, "text": inspect.Parameter.empty}


@pytest.mark.parametrize(
    "args",
    [
        ["hello"],
        ["--url", "http://h:1", "--token", "t", "hello"],
        ["--url=http://h:1", "--json", "--attach", "a.txt", "--attach=b.txt", "-"],
        ["--timeout", "2.5", "--provider", "codex", "--session", "D-codex-1", "hi"],
    ],
)
def test_plain_command_lines_read_the_same(args: list[str]) -> None:
    ours = command_line(args)
    assert ours is not None
    assert {**typer_reads(["x"]), **ours} == typer_reads(args)  # type: ignore[dict-item]


WORDS = st.sampled_from(
    [
        *TAKES_VALUE,
        "--json",
        "--help",
        "--",
        "-",
        "-x",
        "hello",
        "a.txt",
        "5",
        "0.5",
        "1e3",
        "codex",
        "--url=http://h",
        "--timeout=7",
        "",
        "=",
        "--json=1",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(WORDS, max_size=6))
def test_any_command_line_read_here_is_read_alike_by_typer(args: list[str]) -> None:
    ours = command_line(args)
    if ours is None:
        return  # left to Typer: nothing to compare
    theirs = typer_reads(args)
    assert theirs is not None, f"read here, refused by Typer: {args}"
    assert {**typer_reads(["x"]), **ours} == theirs  # type: ignore[dict-item]
