"""The resilience suite's ledger must fail on each way the promise can break: a message lost,
stored twice, shown twice, or a reply left hanging."""

from __future__ import annotations

import pytest

from harness.outcome import Failed
from harness.resilience import ledger
from tui.model.workspace import ChatTab
from tui.store import StoredMessage, status_of


def tab_with(*messages: tuple[str, str, str]) -> ChatTab:
    tab = ChatTab("t", "claude", "Claude", "s")
    tab.messages = [
        StoredMessage(f"m{i}", r, t, status_of(s, "error"), "")
        for i, (r, t, s) in enumerate(messages)
    ]
    return tab


GOOD = tab_with(("user", "a", "acknowledged"), ("assistant", "A", "complete"))


def test_the_promise_kept() -> None:
    assert ledger(["a"], [GOOD], {"a": 1}) == "1 messages: 0 lost, 0 duplicated"


@pytest.mark.parametrize(
    ("tab", "server", "why"),
    [
        (GOOD, {}, "never reached the server"),
        (GOOD, {"a": 2}, "stored twice"),
        (tab_with(("user", "a", "acknowledged"), ("user", "a", "sent")), {"a": 1}, "exactly once"),
        (tab_with(("user", "a", "acknowledged"), ("assistant", "A", "replying")), {"a": 1}, "end"),
    ],
)
def test_each_broken_promise_fails(tab: ChatTab, server: dict[str, int], why: str) -> None:
    with pytest.raises(Failed, match=why):
        ledger(["a"], [tab], server)
