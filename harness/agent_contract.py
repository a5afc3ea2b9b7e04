"""Contract scenarios for the agent extensions (docs/protocol.md Part 4), run when a backend
announces them: every activity, plan and approval frame it sends is checked against §4, its
numbering has no gap, and a socket that did not ask for them gets `skip` frames in their place.
The agent is asked `/tools` (the simulated agent's every kind of tool call); its questions are
denied, so a real agent behind the backend runs nothing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from harness.contract import fresh_session, receive, section, socket
from harness.outcome import Failed, Skipped, check
from harness.scenario import ScenarioList
from harness.target import Target
from harness.timing import scaled
from tui.client.activity import DECISIONS, KINDS, PLAN_STATUSES, STATUSES

AGENT_CONTRACT = ScenarioList("contract")
REPLY_LIMIT = scaled(120)


def valid_item(item: Any, where: str) -> None:
    check(isinstance(item, dict), f"{where}: `item` is not an object: {item!r}")
    check(isinstance(item.get("id"), str) and item["id"], f"{where}: no item id")
    check(item.get("kind") in KINDS, f"{where}: kind {item.get('kind')!r} is not one of §4.2's")
    check(item.get("status") in STATUSES, f"{where}: status {item.get('status')!r}")
    check(isinstance(item.get("title"), str), f"{where}: title {item.get('title')!r}")
    for name in ("input", "output"):
        check(isinstance(item.get(name, ""), str), f"{where}: {name} is not text")
    diff = item.get("diff")
    if diff is not None:
        check(
            isinstance(diff, dict)
            and all(isinstance(diff.get(k), str) for k in ("path", "old", "new")),
            f"{where}: diff {str(diff)[:200]}",
        )


def valid_frame(frame: dict[str, Any]) -> None:
    kind, where = frame.get("type"), f"a `{frame.get('type')}` frame"
    if kind == "activity":
        at = frame.get("at")
        check(isinstance(at, int) and not isinstance(at, bool) and at >= 0, f"{where}: at {at!r}")
        valid_item(frame.get("item"), where)
    elif kind == "plan":
        entries = frame.get("entries")
        if not isinstance(entries, list):
            raise Failed(f"{where}: entries {entries!r}")
        for entry in entries:
            check(
                isinstance(entry, dict)
                and isinstance(entry.get("content"), str)
                and entry.get("status") in PLAN_STATUSES,
                f"{where}: entry {entry!r}",
            )
    elif kind == "approval":
        approval = frame.get("approval")
        if not (isinstance(approval, dict) and isinstance(approval.get("id"), str)):
            raise Failed(f"{where}: no approval id: {str(approval)[:200]}")
        valid_item(approval.get("item"), where)
        options = approval.get("options")
        check(isinstance(options, list) and set(options) <= set(DECISIONS), f"{where}: {options!r}")
    elif kind == "approved":
        check(frame.get("decision") in DECISIONS, f"{where}: decision {frame.get('decision')!r}")
        check(isinstance(frame.get("by"), str), f"{where}: by {frame.get('by')!r}")


async def frames_of_reply(ws: Any, session_id: str, deny: bool) -> list[dict[str, Any]]:
    """The frames up to the reply's end; each approval denied when `deny`."""
    seen: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(REPLY_LIMIT):
            while True:
                raw = await receive(ws, "the reply's frames", REPLY_LIMIT)
                frame = json.loads(raw)
                if not isinstance(frame, dict):
                    raise Failed(f"a frame that is not an object: {str(raw)[:200]}")
                seen.append(frame)
                if deny and frame.get("type") == "approval":
                    answer = {"type": "approve", "session_id": session_id, "decision": "deny"}
                    await ws.send(json.dumps({**answer, "id": frame["approval"]["id"]}))
                if frame.get("type") in ("complete", "error", "stopped", "interrupted"):
                    return seen
    except TimeoutError:
        raise Failed(f"the reply did not end within {REPLY_LIMIT:.0f} s") from None


async def opened(ws: Any, target: Target, session_id: str, accept: list[str] | None) -> None:
    await ws.send(target.token)
    check(await receive(ws, "authenticated") == "authenticated", "not authenticated")
    await receive(ws, "ready")
    if accept is not None:
        await ws.send(json.dumps({"type": "hello", "accept": accept, "device_id": "CONTRACT"}))
    await ws.send(json.dumps({"type": "resume", "session_id": session_id, "after": 0}))
    while json.loads(await receive(ws, "resumed")).get("type") != "resumed":
        pass


def gapless(frames: list[dict[str, Any]], what: str) -> list[int]:
    numbers = [f["seq"] for f in frames if isinstance(f.get("seq"), int)]
    check(
        numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else True,
        f"{what}: frame numbers with a gap: {numbers}",
    )
    return numbers


@AGENT_CONTRACT.add("agent-frames", section("§4.1–4.3 activity and approvals (extension)"))
async def agent_frames(target: Target) -> str:
    """Activity, plan and approval frames are as §4 says, numbered without a gap; a socket that
    did not ask for them gets `skip` frames in their place."""
    features = await target.features()
    if not (features.get("activity") and features.get("approvals")):
        raise Skipped("the backend does not announce activity and approvals (§4.1)")
    session_id, _ = fresh_session()
    async with socket(target) as ws, socket(target) as plain:
        await opened(ws, target, session_id, ["activity", "approvals"])
        await opened(plain, target, session_id, None)  # follows the same session, asks nothing
        await ws.send(json.dumps({"content": "/tools", "session_id": session_id, "id": "c1"}))
        frames, quiet = await asyncio.gather(
            frames_of_reply(ws, session_id, deny=True),
            frames_of_reply(plain, session_id, deny=False),
        )
    for frame in frames:
        valid_frame(frame)
    gapless(frames, "a socket that asked")
    counts = {k: sum(f.get("type") == k for f in frames) for k in ("activity", "plan", "approval")}
    extra = {str(f.get("type")) for f in quiet} & {"activity", "plan", "approval", "approved"}
    check(not extra, f"a socket that did not ask got {sorted(extra)} frames")
    gapless(quiet, "a socket that did not ask")
    return (
        f"{counts['activity']} activity, {counts['plan']} plan and {counts['approval']} "
        f"approval frames checked; {sum(f.get('type') == 'skip' for f in quiet)} skips"
    )
