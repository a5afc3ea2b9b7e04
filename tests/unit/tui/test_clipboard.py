"""Copy says where the text went: a clipboard tool, or OSC 52 with its caveat, and inside tmux
also tmux's paste buffer."""

from __future__ import annotations

import pytest

from tui.system import clipboard


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    commands: list[tuple[str, ...]] = []

    def run(command: tuple[str, ...], text: str) -> bool:
        commands.append(command)
        return True

    monkeypatch.setattr(clipboard, "_run", run)
    return commands


def only(monkeypatch: pytest.MonkeyPatch, *present: str) -> None:
    monkeypatch.setattr(clipboard.shutil, "which", lambda name: name if name in present else None)


def test_a_clipboard_tool_is_used_and_named(
    monkeypatch: pytest.MonkeyPatch, ran: list[tuple[str, ...]]
) -> None:
    only(monkeypatch, "xclip")
    sent: list[str] = []
    assert clipboard.copy_text("hi", sent.append, env={}) == "xclip"
    assert sent == [] and ran == [("xclip", "-selection", "clipboard")]


def test_osc_52_alone_says_the_terminal_may_ignore_it(
    monkeypatch: pytest.MonkeyPatch, ran: list[tuple[str, ...]]
) -> None:
    only(monkeypatch)
    sent: list[str] = []
    how = clipboard.copy_text("hi", sent.append, env={})
    assert sent == ["hi"] and how == "OSC 52 — the terminal may ignore it"


def test_inside_tmux_the_text_also_goes_to_its_paste_buffer(
    monkeypatch: pytest.MonkeyPatch, ran: list[tuple[str, ...]]
) -> None:
    only(monkeypatch, "tmux")
    sent: list[str] = []
    how = clipboard.copy_text("hi", sent.append, env={"TMUX": "/tmp/tmux-0/default,1,0"})
    assert sent == ["hi"] and ran == [("tmux", "load-buffer", "-")]
    assert "prefix ] pastes it" in how and "may ignore" in how


def test_inside_tmux_without_its_buffer_the_setting_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    only(monkeypatch)
    how = clipboard.copy_text("hi", lambda text: None, env={"TMUX": "x"})
    assert "tmux does unless set-clipboard is on" in how
