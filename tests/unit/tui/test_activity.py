"""An agent's work in the client's core (docs/protocol.md §4): frames read defensively into
activity, plan and approval events; numbering kept through frames a socket did not ask for;
the workspace keeps the work with its reply and the open questions on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.client.activity import Activity, ActivityItem, Approval, activity_of, item_of
from tui.client.protocol import (
    ActivityReported,
    ApprovalAsked,
    ApprovalDecided,
    ClientProtocol,
    PlanReported,
    ReplyChunk,
    ReplyDone,
)
from tui.model.workspace import (
    ActivityChanged,
    ApprovalClosed,
    ApprovalOpened,
    Change,
    Workspace,
)
from tui.store import ChatStore
from tui.widgets.tab_bar import tab_label

FEATURES = {
    "message_ids": True,
    "resume": True,
    "stop": True,
    "activity": True,
    "approvals": True,
}


def opened(features: dict[str, bool] = FEATURES) -> ClientProtocol:
    protocol = ClientProtocol("t", session_id="s", last_seq=0)
    protocol.start()
    protocol.receive("authenticated")
    protocol.receive(json.dumps({"type": "ready", "content": "", "features": features}))
    protocol.expect_reply("m1")
    return protocol


def frame(seq: int, kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, "seq": seq, "reply_to": "m1", **fields})


READ = {"id": "t1", "kind": "read", "title": "Read app.py", "status": "running"}


def test_hello_asks_for_what_the_server_has_and_only_with_delivery() -> None:
    assert json.loads(opened().hello("DEV") or "") == {
        "type": "hello",
        "accept": ["activity", "approvals"],
        "device_id": "DEV",
    }
    assert opened({**FEATURES, "approvals": False}).hello("D") is not None
    assert opened({"activity": True, "approvals": True}).hello("D") is None, "no delivery"
    assert opened({"message_ids": True, "resume": True}).hello("D") is None


def test_activity_plan_and_approvals_become_events_in_order() -> None:
    protocol = opened()
    events = [
        *protocol.receive(frame(1, "message", content="Let me look.")),
        *protocol.receive(frame(2, "activity", at=12, item=READ)),
        *protocol.receive(frame(3, "plan", entries=[{"content": "Read", "status": "done?"}])),
        *protocol.receive(
            frame(4, "approval", approval={"id": "a1", "item": {**READ, "status": "pending"}})
        ),
        *protocol.receive(frame(5, "approved", id="a1", decision="deny", by="PHONE")),
        *protocol.receive(frame(6, "complete", message_count=2, cost_usd=0.5)),
    ]
    assert isinstance(events[0], ReplyChunk)
    assert events[1] == ActivityReported(
        "m1", ActivityItem("t1", "read", "Read app.py", "running", 12)
    )
    assert isinstance(events[2], PlanReported) and events[2].plan[0].status == "pending"
    assert isinstance(events[3], ApprovalAsked) and events[3].approval.reply_to == "m1"
    assert events[3].approval.options == ("allow_once", "allow_session", "deny")
    assert events[4] == ApprovalDecided("m1", "a1", "deny", "PHONE")
    assert isinstance(events[5], ReplyDone) and events[5].cost_usd == 0.5


def test_a_skip_takes_its_number_so_nothing_waits_for_a_gap() -> None:
    protocol = opened()
    protocol.receive(frame(1, "message", content="a"))
    assert protocol.receive(frame(2, "skip")) == []
    assert protocol.receive(frame(3, "message", content="b")) == [ReplyChunk("m1", "b")]
    assert protocol.missing is None and protocol.last_seq == 3


@pytest.mark.parametrize(
    "item",
    [
        None,
        "read",
        {"kind": "read"},  # no id
        {"id": 7, "title": "x"},
    ],
)
def test_an_item_without_an_id_is_reported_not_taken(item: object) -> None:
    (event,) = opened().receive(frame(1, "activity", item=item))
    assert type(event).__name__ == "Strange"


def test_odd_fields_are_given_defaults_and_bounded() -> None:
    item = item_of(
        {
            "id": "x",
            "kind": "teleport",
            "status": 3,
            "title": "\x1b[2J" + "t" * 10_000,
            "locations": [{"path": "a.py", "line": -4}, {"line": 3}, "b.py"],
            "output": "o" * 1_000_000,
            "diff": {"path": "a.py", "old": 1, "new": "n"},
            "duration_ms": "soon",
        },
        at="here",
    )
    assert item is not None
    assert (item.kind, item.status, item.at) == ("other", "running", 0)
    assert len(item.title) == 500 and len(item.output) == 64 * 1024
    assert [(loc.path, loc.line) for loc in item.locations] == [("a.py", None)]
    assert item.diff is not None and (item.diff.old, item.diff.new) == ("", "n")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_no_item_or_stored_activity_can_raise(data: object) -> None:
    item_of(data)
    activity_of(data)
    activity_of(json.dumps(data) if not isinstance(data, str) else data)


def test_an_update_replaces_the_item_where_it_first_came() -> None:
    first = ActivityItem("t1", "execute", "Run pytest", "running", at=5)
    activity = (
        Activity().with_item(first).with_item(ActivityItem("t2", "read", "Read", "completed", 9))
    )
    activity = activity.with_item(ActivityItem("t1", "execute", "Run pytest", "completed", at=40))
    assert [(i.id, i.status, i.at) for i in activity.items] == [
        ("t1", "completed", 5),
        ("t2", "completed", 9),
    ]
    assert activity_of(activity.dumps()) == activity


# the workspace --------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> ChatStore:
    return ChatStore(tmp_path / "history.db")


def workspace(store: ChatStore) -> tuple[Workspace, list[Change]]:
    changes: list[Change] = []
    ws = Workspace(store, base_url="http://127.0.0.1:9", token="t", device_id="DEV")
    ws.observe(changes.append)
    ws.restore()
    return ws, changes


async def test_the_work_comes_with_its_reply_and_is_kept_with_it(store: ChatStore) -> None:
    ws, changes = workspace(store)
    tab = ws.tabs[0]
    asked = ws.send(tab.tab_id, "fix it")
    ws.handle(
        tab.tab_id, ActivityReported(asked.msg_id, ActivityItem("t1", "read", "Read a", "running"))
    )
    assert tab.replying and tab.doing is not None and tab.doing.title == "Read a", "work first"
    assert ActivityChanged(tab.tab_id) in changes
    ws.handle(tab.tab_id, ReplyChunk(asked.msg_id, "Done."))
    ws.handle(
        tab.tab_id,
        ActivityReported(asked.msg_id, ActivityItem("t1", "read", "Read a", "completed", 5)),
    )
    assert tab.doing is None
    ws.handle(tab.tab_id, ReplyDone(asked.msg_id, "Done.", 1, 2, None))
    reply = tab.messages[-1]
    assert reply.text == "Done." and [(i.status, i.at) for i in reply.activity.items] == [
        ("completed", 0)
    ]
    assert store.session_messages(tab.session_id)[-1].activity == reply.activity, "stored"


async def test_a_question_is_kept_until_answered_or_its_reply_ends(store: ChatStore) -> None:
    ws, changes = workspace(store)
    tab = ws.tabs[0]
    asked = ws.send(tab.tab_id, "may I")
    item = ActivityItem("t1", "execute", "Run ls", "pending")
    question = Approval("a1", item, reply_to=asked.msg_id)
    ws.handle(tab.tab_id, ActivityReported(asked.msg_id, item))  # the call, then its question
    ws.handle(tab.tab_id, ApprovalAsked(asked.msg_id, question))
    assert ApprovalOpened(tab.tab_id, question) in changes and tab.approvals == {"a1": question}
    again, _ = workspace(store)
    assert again.tabs[0].approvals == {"a1": question}, "it survives a restart"
    ws.handle(tab.tab_id, ApprovalDecided(asked.msg_id, "a1", "allow_once", "PHONE"))
    assert ApprovalClosed(tab.tab_id, "a1", "allow_once", "PHONE") in changes
    assert not tab.approvals and store.open_approvals(tab.session_id) == []
    ws.handle(tab.tab_id, ApprovalAsked(asked.msg_id, Approval("a2", item, reply_to=asked.msg_id)))
    ws.handle(tab.tab_id, ReplyDone(asked.msg_id, "", 0, 2, None))
    assert not tab.approvals, "closed with its reply"
    assert ApprovalClosed(tab.tab_id, "a2", "deny", "the reply ended") in changes
    answers = [(x.approval_id, x.decision, x.by) for x in tab.messages[-1].activity.answers]
    assert answers == [("a1", "allow_once", "PHONE")], "a question its reply outlived is no answer"


async def test_the_tab_label_says_what_the_agent_does_and_that_it_asks(store: ChatStore) -> None:
    ws, _ = workspace(store)
    tab = ws.tabs[0]
    asked = ws.send(tab.tab_id, "work")
    run = ActivityItem("t1", "execute", "Run the whole test suite now", "running")
    ws.handle(tab.tab_id, ActivityReported(asked.msg_id, run))
    assert tab_label(1, tab).endswith("⋯ Run the whole test"), "cut to fit"
    ws.handle(tab.tab_id, ApprovalAsked(asked.msg_id, Approval("a1", run)))
    assert tab_label(1, tab).endswith(" ?"), "a question comes first"
