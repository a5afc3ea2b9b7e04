"""The contract suite against real backends on ephemeral ports: the bundled mock passes it, a
backend with the reference server's close endpoint fails exactly the two promises it breaks,
and allowed variation on the wire is not a failure."""

from __future__ import annotations

import json

import pytest

from harness import contract
from harness.outcome import Failed
from harness.runner import Result, run_all
from harness.suites import all_scenarios
from harness.target import BundledMock, RemoteBackend
from tests.conftest import TOKEN, BackendFactory
from tui.client.protocol import ReplyDone

CONTRACT = [s for s in all_scenarios() if s.suite == "contract"]


def by_status(results: list[Result], status: str) -> dict[str, str]:
    return {r.scenario.name: r.message for r in results if r.status == status}


async def test_the_bundled_mock_passes_every_contract_scenario(bundled: BundledMock) -> None:
    results = await run_all(CONTRACT, bundled)
    assert by_status(results, "failed") == {}
    assert by_status(results, "skipped") == {}, "the bundled mock can be restarted"
    assert len(results) == len(CONTRACT) >= 20


async def test_a_reference_style_close_fails_exactly_the_two_broken_promises(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend(reference_close=True)
    target = RemoteBackend(backend.url, TOKEN, restart_cmd=None)
    try:
        results = await run_all(CONTRACT, target)
    finally:
        await target.close()
    failed = by_status(results, "failed")
    assert set(failed) == {"close-unknown-session-404", "close-wrong-token-401"}
    assert "404 for no such session" in failed["close-unknown-session-404"]
    assert "answered 200" in failed["close-unknown-session-404"]
    assert "401 for an invalid token" in failed["close-wrong-token-401"]
    skipped = by_status(results, "skipped")
    assert set(skipped) == {"sessions-survive-restart"}
    assert "--restart-cmd" in skipped["sessions-survive-restart"]


async def test_a_restart_command_that_fails_is_a_failure_with_its_output(
    start_backend: BackendFactory,
) -> None:
    backend = await start_backend()
    target = RemoteBackend(backend.url, TOKEN, restart_cmd="echo cannot restart >&2; exit 3")
    try:
        with pytest.raises(Failed, match=r"exited with 3: cannot restart"):
            await target.restart()
    finally:
        await target.close()


READY = json.dumps({"type": "ready", "content": "hi", "timestamp": "t", "features": {}})


class ScriptedSocket:
    """A handshake, then frames a backend might send, in order (for the variation the contract
    allows)."""

    def __init__(self, *frames: str) -> None:
        self.frames = ["authenticated", READY, *frames]
        self.sent: list[str] = []

    async def recv(self) -> str:
        return self.frames.pop(0)

    async def send(self, frame: str) -> None:
        self.sent.append(frame)


async def scripted_reply(*frames: str) -> ReplyDone:
    chat = contract.Chat(ScriptedSocket(*frames), "t")  # type: ignore[arg-type]
    await chat.handshake()
    await chat.send_raw('{"content": "hi"}')
    return await chat.reply("hi")


async def test_stream_chunks_extra_fields_and_usage_are_allowed() -> None:
    reply = await scripted_reply(
        json.dumps({"type": "stream", "content": "Hel", "extra": 1}),
        json.dumps({"type": "message", "content": "lo", "timestamp": "t", "seq": 2}),
        json.dumps(
            {
                "type": "complete",
                "content": "Response complete",
                "message_count": 2,
                "usage": {"input_tokens": 3, "cached_input_tokens": 0, "output_tokens": 2},
                "model": "any",
            }
        ),
    )
    assert reply.text == "Hello" and reply.chunks == 2
    contract.counted(reply, 2, "test")
    contract.shape({"version": "9.9-custom", "x": [1]}, {"version": str}, "test")


async def test_an_error_frame_during_a_reply_fails_with_its_text() -> None:
    with pytest.raises(Failed, match="BridgeHub exploded"):
        await scripted_reply(json.dumps({"type": "error", "content": "BridgeHub exploded"}))


def test_a_wrong_field_type_names_the_field_and_value() -> None:
    with pytest.raises(Failed, match=r"field 'total' should be int, got '3'"):
        contract.shape({"total": "3"}, {"total": int}, "/api/sessions")
    with pytest.raises(Failed, match=r"field 'total' should be int, got True"):
        contract.shape({"total": True}, {"total": int}, "/api/sessions")
