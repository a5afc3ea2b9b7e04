"""The activity and approvals extensions on the mock (docs/protocol.md §4), over real sockets:
what the simulated agent does is streamed in order, numbered, kept in the history, and its
questions are put to every client following the session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from harness.timing import scaled
from mock_backend import MockBackend, fake_agents
from tests.conftest import TOKEN, BackendFactory

SESSION = "DEV-claude-activity"


async def raw_socket(
    backend: MockBackend, accept: list[str] | None, device: str = "DEV", after: int = 0
) -> ClientConnection:
    """An authenticated socket that said `hello` (unless `accept` is None) and resumed."""
    ws = await connect(backend.ws_url("claude"), max_size=None)
    await ws.send(TOKEN)
    assert await ws.recv() == "authenticated"
    ready = json.loads(await ws.recv())
    assert ready["features"]["activity"] and ready["features"]["approvals"]
    if accept is not None:
        await ws.send(json.dumps({"type": "hello", "accept": accept, "device_id": device}))
    await ws.send(json.dumps({"type": "resume", "session_id": SESSION, "after": after}))
    while json.loads(await ws.recv())["type"] != "resumed":
        pass
    return ws


async def frames_until(
    ws: ClientConnection, last: str, answer: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Frames up to one of type `last`; `answer`: the decision to send to each approval."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(scaled(15)):
        while True:
            frame = json.loads(await ws.recv())
            seen.append(frame)
            if frame["type"] == "approval" and answer is not None:
                await ws.send(
                    json.dumps(
                        {
                            "type": "approve",
                            "session_id": SESSION,
                            "id": frame["approval"]["id"],
                            **answer,
                        }
                    )
                )
            if frame["type"] == last:
                return seen


async def chat(ws: ClientConnection, text: str, msg_id: str) -> None:
    await ws.send(json.dumps({"content": text, "session_id": SESSION, "id": msg_id}))


async def test_every_kind_of_activity_is_streamed_in_order_and_kept_in_the_history(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(approvals="allow")
    ws = await raw_socket(backend, ["activity", "approvals"])
    await chat(ws, "/tools", "m1")
    frames = await frames_until(ws, "complete")
    numbered = [f["seq"] for f in frames if "seq" in f]
    assert numbered == list(range(numbered[0], numbered[0] + len(numbered))), "no gap"
    kinds = [f["type"] for f in frames if f["type"] != "skip"]  # (the turn: not asked for)
    assert kinds[0] == "ack" and kinds[-1] == "complete"
    assert "plan" in kinds and "message" in kinds
    items: dict[str, dict[str, Any]] = {}
    text = ""
    for frame in frames:
        if frame["type"] == "message":
            text += frame["content"]
        if frame["type"] == "activity":
            assert frame["at"] == len(text) or frame["item"]["id"] in items, "placed where it came"
            items[frame["item"]["id"]] = frame["item"]
    assert {i["kind"] for i in items.values()} == {
        "read",
        "search",
        "edit",
        "execute",
        "think",
        "fetch",
        "delegate",
        "move",
        "delete",
        "other",
    }
    assert all(i["status"] == "completed" for i in items.values())
    edit = next(i for i in items.values() if i["kind"] == "edit")
    assert edit["diff"]["path"] == "app/parser.py" and "GB" in edit["diff"]["new"]
    run = next(i for i in items.values() if i["kind"] == "execute")
    assert "12 passed" in run["output"] and run["duration_ms"] >= 0
    assert frames[-1]["usage"] == {"input_tokens": 1840, "output_tokens": 312}
    assert frames[-1]["cost_usd"] == 0.0123
    async with httpx.AsyncClient() as http:
        page = (
            await http.get(
                f"{backend.url}/api/sessions/{SESSION}/messages", headers={"X-API-Key": TOKEN}
            )
        ).json()
    reply = page["messages"][-1]
    assert reply["content"] == text
    kept = reply["metadata"]["activity"]
    assert [i["id"] for i in kept] == list(items)
    assert text[: kept[0]["at"]] == "Let me look at the code first.\n\n", "placed after that"
    assert reply["metadata"]["plan"][-1]["status"] == "completed"
    await ws.close()


async def test_a_socket_that_did_not_ask_gets_skips_and_the_text(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(approvals="allow")
    ws = await raw_socket(backend, accept=None)
    await chat(ws, "fix the bug in app/parser.py", "m1")
    frames = await frames_until(ws, "complete")
    kinds = {f["type"] for f in frames}
    assert kinds == {"ack", "message", "skip", "complete"}
    numbered = [f["seq"] for f in frames if "seq" in f]
    assert numbered == list(range(numbered[0], numbered[0] + len(numbered))), "no gap"
    await ws.close()


async def test_an_approval_is_put_to_every_client_and_the_first_answer_wins(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend()
    phone = await raw_socket(backend, ["activity", "approvals"], device="PHONE")
    laptop = await raw_socket(backend, ["activity", "approvals"], device="LAPTOP")
    await chat(laptop, "/approve", "m1")
    asked = await frames_until(phone, "approval", {"decision": "allow_once"})
    on_laptop = await frames_until(laptop, "approval")
    assert asked[-1]["approval"]["id"] == on_laptop[-1]["approval"]["id"]
    assert asked[-1]["approval"]["options"] == ["allow_once", "allow_session", "deny"]
    rest = await frames_until(laptop, "complete")
    approved = next(f for f in rest if f["type"] == "approved")
    assert approved["decision"] == "allow_once" and approved["by"] == "PHONE"
    run = [f["item"] for f in rest if f["type"] == "activity"]
    assert run[-1]["status"] == "completed" and run[-1]["title"] == "Run ls -la"
    await laptop.send(
        json.dumps(
            {
                "type": "approve",
                "session_id": SESSION,
                "id": approved["id"],
                "decision": "deny",
            }
        )
    )
    late = json.loads(await laptop.recv())
    assert late["type"] == "error" and "already answered" in late["content"]
    await phone.close()
    await laptop.close()


async def test_a_denied_edit_is_not_made_and_the_agent_says_so(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend()
    ws = await raw_socket(backend, ["activity", "approvals"])
    await chat(ws, "fix the bug in app/parser.py", "m1")
    frames = await frames_until(ws, "complete", {"decision": "deny"})
    edit = [f["item"] for f in frames if f["type"] == "activity" and f["item"]["kind"] == "edit"]
    assert edit[-1]["status"] == "failed" and "denied by DEV" in edit[-1]["output"]
    assert not any(f["type"] == "activity" and f["item"]["kind"] == "execute" for f in frames)
    assert "left `app/parser.py` as it was" in "".join(
        f["content"] for f in frames if f["type"] == "message"
    )
    await ws.close()


async def test_an_unanswered_approval_times_out_only_while_a_client_is_there(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(approval_timeout=0.3)
    ws = await raw_socket(backend, ["activity"])  # it cannot answer: the request waits
    await chat(ws, "/approve", "m1")
    frames = await frames_until(ws, "activity")
    assert frames[-1]["item"]["status"] == "pending"
    await asyncio.sleep(scaled(0.6))  # longer than the timeout, with nobody able to answer
    assert backend.approvals.health()["open"] == 1, "still waiting for someone to answer"
    answering = await raw_socket(backend, ["activity", "approvals"], after=frames[-1]["seq"])
    rest = await frames_until(answering, "complete")
    approved = next(f for f in rest if f["type"] == "approved")
    assert (approved["decision"], approved["by"]) == ("deny", "timeout")
    assert "nobody answered" in approved["reason"]
    await ws.close()
    await answering.close()


FIXTURES = Path(fake_agents.__file__).resolve().parent


async def test_claude_code_behind_the_mock_streams_its_tools_and_asks_the_clients(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(
        agent="claude-code", agent_command=str(FIXTURES / "claude.py"), workdir=tmp_path
    )
    ws = await raw_socket(backend, ["activity", "approvals"])
    await chat(ws, "scenario:tools show me", "m1")
    frames = await frames_until(ws, "complete")
    items = {f["item"]["id"]: f["item"] for f in frames if f["type"] == "activity"}
    assert {"read", "edit", "execute", "search"} <= {i["kind"] for i in items.values()}
    assert all(i["status"] in ("completed", "failed") for i in items.values())
    await chat(ws, "scenario:permission may I", "m2")
    asked = await frames_until(ws, "complete", {"decision": "allow_once"})
    approved = next(f for f in asked if f["type"] == "approved")
    assert (approved["decision"], approved["by"]) == ("allow_once", "DEV")
    text = "".join(f["content"] for f in asked if f["type"] == "message")
    assert "permission: allow" in text, "the CLI heard the answer"
    await ws.close()


async def test_codex_behind_the_mock_continues_its_thread(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = await start_backend(
        agent="codex", agent_command=str(FIXTURES / "codex.py"), workdir=tmp_path
    )
    ws = await raw_socket(backend, ["activity"])
    await chat(ws, "scenario:tools run the tests", "m1")
    first = await frames_until(ws, "complete")
    assert any(f["type"] == "activity" and f["item"]["kind"] == "execute" for f in first)
    await chat(ws, "and again", "m2")
    await frames_until(ws, "complete")
    session = backend.registry.active[SESSION]
    assert session.agent_sessions["codex"], "the thread id is kept for the next turn"
    await ws.close()


async def test_the_config_frame_chooses_where_the_agent_works_inside_workdir_only(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    (tmp_path / "project").mkdir()
    backend = await start_backend(
        agent="claude-code", agent_command=str(FIXTURES / "claude.py"), workdir=tmp_path
    )

    async def cwd_for(directory: str, msg_id: str) -> str:
        ws = await raw_socket(backend, ["activity"])
        await ws.send(json.dumps({"working_directory": directory}))
        await chat(ws, "scenario:echo where", msg_id)
        frames = await frames_until(ws, "complete")
        await ws.close()
        said = json.loads("".join(f["content"] for f in frames if f["type"] == "message"))
        return str(said["cwd"])

    assert await cwd_for("project", "m1") == str((tmp_path / "project").resolve())
    assert await cwd_for("../..", "m2") == str(tmp_path.resolve()), "never outside --workdir"
