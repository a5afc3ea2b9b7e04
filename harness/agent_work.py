"""Checklist items beyond the seeds: the agent's work in sight, and its questions (docs/protocol.md
Part 4), through the real app. They need a backend that announces `activity` and `approvals`
and whose agent works on request: the bundled mock's simulated agent (`/tools`, `/approve`, a
request to change code). Against any other backend they are skipped, saying why.
"""

from __future__ import annotations

import json
import secrets
import sys

from websockets.asyncio.client import connect

from harness.checklist import BEYOND, fresh_app
from harness.driver import WAIT, AppRun, data_dir, drawn, replies
from harness.outcome import Skipped, check
from harness.scenario import ScenarioList
from harness.target import Target
from mock_backend.config import MockConfig
from mock_backend.server import MockBackend
from tui.client.activity import KINDS
from tui.client.frames import ws_url
from tui.client.history import fetch_history
from tui.store import StoredMessage
from tui.widgets.approval_dialog import ApprovalDialog

AGENT_WORK = ScenarioList("checklist")


async def needs(target: Target, *features: str) -> None:
    announced = await target.features()
    missing = [f for f in features if not announced.get(f)]
    if missing:
        raise Skipped(f"the backend does not announce {', '.join(missing)} (docs/protocol.md §4.1)")


async def worked(run: AppRun, text: str, answers: str = "") -> StoredMessage:
    """Send `text` and answer each question with the next key of `answers` (then `n`); the
    whole reply, once it ends."""
    tab = run.tab()
    before = len(replies(tab))
    keys = iter(answers)
    await run.send(text)
    while True:
        await drawn(
            run.pilot,
            lambda: (
                isinstance(run.app.screen, ApprovalDialog)
                or (len(replies(tab)) > before and tab.live is None)
            ),
            WAIT,
        )
        if not isinstance(run.app.screen, ApprovalDialog):
            return replies(tab)[-1]
        key = next(keys, "n")
        await run.pilot.press("escape" if key == "\x1b" else key)
        if key == "\x1b":  # put off: wait for the reply to end without asking again
            await run.until(
                lambda: len(replies(tab)) > before and tab.live is None, "the reply to end"
            )
            return replies(tab)[-1]


@AGENT_WORK.add("agent-activity", f"{BEYOND}: docs/protocol.md §4.2")
async def agent_activity(target: Target) -> None:
    """Every kind of tool call appears in the reply, in order, and ends done.

    `/tools` asks the simulated agent for every kind of activity (its edit and command are
    allowed when it asks): each kind is in the reply's work, each call ends completed, each sits
    where it came in the text, the plan ends done, the screen shows the calls, and the backend's
    history keeps the same calls with the reply.
    """
    await needs(target, "activity", "approvals")
    async with fresh_app(target) as run:
        reply = await worked(run, "/tools", "ya")
        items = reply.activity.items
        check({i.kind for i in items} == KINDS, f"kinds shown: {sorted({i.kind for i in items})}")
        check(all(i.status == "completed" for i in items), f"statuses: {[i.status for i in items]}")
        places = [i.at for i in items]
        check(places == sorted(places), f"the calls are out of order in the text: {places}")
        check(
            bool(reply.activity.plan) and all(e.status == "completed" for e in reply.activity.plan),
            f"the plan: {reply.activity.plan}",
        )
        log = run.view().log
        screen = "\n".join(s.text for e in log.entries for s in log.lines_of(e))
        check("✎ Edit app/parser.py  ✓" in screen, f"the edit is not on screen:\n{screen[-2000:]}")
        if (await target.features()).get("session_history"):
            history = await fetch_history(target.url, target.token, run.tab().session_id)
            kept = (history or [])[-1].metadata.get("activity") if history else None
            ids = [i.get("id") for i in kept] if isinstance(kept, list) else kept
            check(ids == [i.id for i in items], f"the backend kept {ids!r}")


@AGENT_WORK.add("agent-approvals", f"{BEYOND}: docs/protocol.md §4.3")
async def agent_approvals(target: Target) -> None:
    """The agent's questions: allowed, denied, and answered on another device.

    `/approve` is allowed with y: the command runs. A request to change code is denied at its
    edit with n: the edit fails and nothing runs after it. Then a question is answered by
    another client on the same session: the dialog here closes and says so.
    """
    await needs(target, "activity", "approvals")
    async with fresh_app(target) as run:
        allowed = await worked(run, "/approve", "y")
        run_ls = allowed.activity.items[-1]
        check(run_ls.status == "completed", f"the allowed command ended {run_ls.status}")
        denied = await worked(run, "fix the bug in app/parser.py", "n")
        kinds = [(i.kind, i.status) for i in denied.activity.items]
        check(("edit", "failed") in kinds, f"the denied edit: {kinds}")
        check(all(k != "execute" for k, _ in kinds), f"something ran after the denial: {kinds}")
        tab = run.tab()
        await run.send("/approve")
        await drawn(run.pilot, lambda: isinstance(run.app.screen, ApprovalDialog), WAIT)
        assert isinstance(run.app.screen, ApprovalDialog)
        question = run.app.screen.approval
        async with connect(ws_url(target.url, tab.provider)) as phone:
            await phone.send(target.token)
            await phone.recv()  # authenticated
            await phone.recv()  # ready
            hello = {"type": "hello", "accept": ["approvals"], "device_id": "CHECK-PHONE"}
            await phone.send(json.dumps(hello))
            answer = {"type": "approve", "session_id": tab.session_id, "id": question.id}
            await phone.send(json.dumps({**answer, "decision": "allow_once"}))
            await drawn(run.pilot, lambda: not isinstance(run.app.screen, ApprovalDialog), WAIT)
        await run.until(lambda: tab.live is None, "the reply after the other device's answer")
        check(
            any("CHECK-PHONE" in notice for notice in run.notices),
            f"no notice says who answered: {run.notices[-3:]}",
        )


@AGENT_WORK.add("agent-adapters", f"{BEYOND}: docs/mock.md, real agents")
async def agent_adapters(target: Target) -> str:
    """Claude Code and Codex behind the bundled mock, each against its stand-in.

    For each adapter a bundled mock of its own runs it (`--agent claude-code` / `codex`, the
    stand-in in `mock_backend.fake_agents` as `--agent-command`): through the app, its tool
    calls appear in the reply and end done, and Claude Code's question is answered with y and
    reaches the agent. This checks the bundled backend's adapters, whatever the target.
    """
    seen = []
    for agent, provider in (("claude-code", "claude"), ("codex", "codex")):
        async with data_dir() as directory:
            config = MockConfig(
                port=0,
                token=secrets.token_urlsafe(16),
                db_path=directory / "mock.db",
                chunk_delay=0,
                agent=agent,
                agent_command=f"{sys.executable} -m mock_backend.fake_agents.{provider}",
                workdir=directory,
            )
            backend = MockBackend(config)
            async with backend, AppRun(directory / "app", backend.url, backend.token) as run:
                if provider == "codex":
                    await run.new_tab("codex")
                await run.connected()
                reply = await worked(run, "scenario:tools go", "yy")
                items = reply.activity.items
                check(len(items) >= 3, f"{agent}: {len(items)} tool calls shown")
                check(
                    all(i.done for i in items),
                    f"{agent}: calls not done: {[(i.title, i.status) for i in items]}",
                )
                if provider == "claude":
                    asked = await worked(run, "scenario:permission may I", "y")
                    check(
                        "permission: allow" in asked.text,
                        f"{agent}: the answer did not reach it: {asked.text[:200]}",
                    )
                seen.append(f"{agent} {len(items)} calls")
    return ", ".join(seen)


@AGENT_WORK.add("agent-approval-timeout", f"{BEYOND}: docs/protocol.md §4.3, the timeout")
async def agent_approval_timeout(target: Target) -> None:
    """A question nobody answers is denied when its time runs out, and the agent hears why.

    A bundled mock of its own asks with a 1 s timeout (`--approval-timeout`); the app puts the
    question off (Escape): the call fails, the answer kept with the reply is `deny` by
    `timeout`, and the reply ends. This checks the bundled backend, whatever the target.
    """
    async with data_dir() as directory:
        config = MockConfig(
            port=0,
            token=secrets.token_urlsafe(16),
            db_path=directory / "mock.db",
            chunk_delay=0,
            approval_timeout=1.0,
        )
        backend = MockBackend(config)
        async with backend, AppRun(directory / "app", backend.url, backend.token) as run:
            await run.connected()
            reply = await worked(run, "/approve", "\x1b")  # Escape: decide later
            call = reply.activity.items[-1]
            check(call.status == "failed", f"the unanswered call ended {call.status}")
            answers = [(a.decision, a.by) for a in reply.activity.answers]
            check(answers == [("deny", "timeout")], f"the answers kept: {answers}")
