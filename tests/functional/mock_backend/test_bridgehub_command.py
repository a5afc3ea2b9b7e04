"""The subprocess BridgeHub adapter, against the fake BridgeHub program in each of its modes."""

from __future__ import annotations

import json
import shlex
import sys
import time
from typing import Any

import httpx
import pytest

from harness.timing import scaled
from mock_backend import MockBackend
from mock_backend.bridgehub.command import CommandBridgeHub
from mock_backend.bridgehub.protocol import BridgeHubError, build_request
from tests.conftest import TOKEN, BackendFactory
from tests.functional.mock_backend.client import ask, open_chat, read_reply

FAKE = f"{shlex.quote(sys.executable)} -m mock_backend.fake_bridgehub"


def _request(message: str = "hello") -> dict:
    return build_request(
        agent="claude",
        session_id="s",
        message=message,
        history=[{"role": "user", "content": message}],
        message_count=1,
        capsule=".",
    )


def _hub(mode: str, timeout: float = scaled(20), extra: str = "") -> CommandBridgeHub:
    return CommandBridgeHub(f"{FAKE} --mode {mode} {extra}", timeout=timeout)


async def test_ok_answer_comes_from_the_payload_line() -> None:
    answer = await _hub("ok").ask(_request("hello"))
    assert answer.startswith("**Jarvis here.**")


async def test_payload_line_over_64_kib_is_read_whole() -> None:
    answer = await _hub("huge").ask(_request())
    assert len(answer) > 64 * 1024
    assert answer.endswith("line 05999 of a very long answer\n")


async def test_chatty_stderr_does_not_stall_the_child() -> None:
    assert (await _hub("chatty-stderr").ask(_request("hello"))).startswith("**Jarvis")


async def test_data_null_with_summary_uses_the_summary() -> None:
    assert await _hub("data-null-summary").ask(_request()) == "Summary only."


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("invalid-json", "not valid JSON"),
        ("data-null", "no output and no summary"),
        ("fail", "BridgeHub failed: agent crashed"),
        ("exit-nonzero", "exited with status 3"),
        ("no-payload", "no JARVIS_PAYLOAD line"),
    ],
)
async def test_misbehaviour_becomes_a_readable_error(mode: str, message: str) -> None:
    with pytest.raises(BridgeHubError, match=message):
        await _hub(mode).ask(_request())


async def test_a_hanging_bridgehub_times_out() -> None:
    started = time.monotonic()
    with pytest.raises(BridgeHubError, match=r"did not answer within 0\.5 s"):
        await _hub("hang", timeout=0.5).ask(_request())
    assert time.monotonic() - started < 5


async def test_payload_line_past_the_adapter_limit_is_refused() -> None:
    hub = CommandBridgeHub(f"{FAKE} --mode huge", max_line_bytes=32 * 1024)
    with pytest.raises(BridgeHubError, match="over 32768 bytes"):
        await hub.ask(_request())


async def test_missing_program_is_a_clear_error() -> None:
    hub = CommandBridgeHub("/nonexistent/bridgehub --flag")
    assert hub.health()["ready"] is False
    with pytest.raises(BridgeHubError, match="cannot start BridgeHub"):
        await hub.ask(_request())


# through the server ------------------------------------------------------------------------------


async def test_a_session_with_a_huge_answer_in_its_history_keeps_working(
    start_backend: BackendFactory,
) -> None:
    """Linux refuses one argument over 128 KiB; one ~240 KB answer in the history made every
    later turn of the session fail with "Argument list too long" until the request was fitted."""
    backend = await start_backend(bridgehub_command=f"{FAKE} --mode ok")
    ws = await open_chat(backend)
    long = await ask(ws, "/long 40000", "cmd-huge")
    assert long.ok and len(long.text) > 200_000
    for n in range(3):
        reply = await ask(ws, f"and now turn {n}?", "cmd-huge")
        assert reply.ok, reply.error
    await ws.close()


async def test_server_streams_a_real_bridgehub_answer(start_backend: BackendFactory) -> None:
    backend = await start_backend(bridgehub_command=f"{FAKE} --mode ok")
    ws = await open_chat(backend)
    await ask(ws, "Remember the code word KIWI-3", "cmd-s")
    reply = await ask(ws, "What was the code word?", "cmd-s")
    assert reply.ok and "KIWI-3" in reply.text and reply.count == 4
    await ws.close()


@pytest.mark.parametrize(
    "mode", ["invalid-json", "data-null", "exit-nonzero", "no-payload", "fail"]
)
async def test_server_reports_bridgehub_failure_as_an_error_frame(
    start_backend: BackendFactory, mode: str
) -> None:
    backend = await start_backend(bridgehub_command=f"{FAKE} --mode {mode}")
    ws = await open_chat(backend)
    reply = await ask(ws, "hello", "cmd-fail")
    assert reply.chunks == [] and not reply.ok
    stored = backend.registry.store.all_messages("cmd-fail")
    assert [(m.role, (m.metadata or {}).get("status")) for m in stored] == [
        ("user", None),
        ("assistant", "error"),
    ]
    await ws.close()


async def test_server_times_out_a_hanging_bridgehub(start_backend: BackendFactory) -> None:
    backend = await start_backend(bridgehub_command=f"{FAKE} --mode hang", bridgehub_timeout=0.5)
    ws = await open_chat(backend)
    reply = await ask(ws, "hello", "cmd-hang")
    assert not reply.ok and "did not answer" in reply.error
    assert not (await ask(ws, "hello", "cmd-hang")).ok, "socket still usable"
    await ws.close()


async def test_close_kills_the_running_bridgehub_process(start_backend: BackendFactory) -> None:
    backend = await start_backend(bridgehub_command=f"{FAKE} --mode ok --delay 60")
    ws = await open_chat(backend)
    await ws.send(json.dumps({"content": "slow one", "session_id": "cmd-close"}))
    session = None
    while session is None or session.turn is None:
        await (await ws.ping())  # a round-trip through the server's loop each time
        session = backend.registry.active.get("cmd-close")
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=backend.url) as http:
        closed = await http.delete(
            "/api/claude/session/cmd-close/close", headers={"Authorization": TOKEN}
        )
    assert closed.json()["process_killed"] is True
    reply = await read_reply(ws)
    assert reply.error == "Session closed"
    assert time.monotonic() - started < 5
    await ws.close()


async def test_the_bridgehub_request_is_built_off_the_event_loop(
    backend: MockBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from mock_backend import turns

    threads: list[bool] = []
    real = turns.build_request

    def recording(**kwargs: Any) -> dict[str, Any]:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(**kwargs)

    monkeypatch.setattr(turns, "build_request", recording)
    ws = await open_chat(backend)
    assert (await ask(ws, "hello", "off-loop")).ok
    await ws.close()
    assert threads == [False], "built in a worker thread, not on the server's loop"
