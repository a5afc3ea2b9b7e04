"""Suite `contract`: the backend alone, at the protocol level (docs/protocol.md §1.1 rows, §1.2
steps, §1.3, and §2.5 when offered). Where the seeds promise something, a backend that does
otherwise fails, and the message names the promise and what came back. Where the contract
allows variation (extra JSON fields, the version string, `stream` or `message` chunks), nothing
fails.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from harness.outcome import Failed, Skipped, check
from harness.scenario import ScenarioList
from harness.target import Target
from harness.timing import scaled
from tui.client import frames
from tui.client.protocol import (
    ClientProtocol,
    Opened,
    ProtocolEvent,
    Refused,
    ReplyChunk,
    ReplyDone,
    ReplyFailed,
    TokenAccepted,
)

HANDSHAKE_LIMIT = scaled(10.0)
"""§1.2 step 2: the server answers the token within 10 s."""
REPLY_LIMIT = scaled(180.0)
"""Seconds one reply may take: a real agent can think for a while."""
PROMISE_404 = "broken promise (close answers 404 for no such session)"
PROMISE_401 = "broken promise (close answers 401 for an invalid token)"
CONTRACT = ScenarioList("contract")


def section(where: str) -> str:
    return f"docs/protocol.md {where}"


def fresh_session(provider: str = "claude") -> tuple[str, str]:
    """A device id and session id no one else uses."""
    device = f"contract-{secrets.token_hex(4)}"
    return device, f"{device}-{provider}-{secrets.token_hex(16)}"


def shape(body: Any, fields: dict[str, type | tuple[type, ...]], what: str) -> None:
    """`body` is an object with at least these fields of these types (more are allowed)."""
    check(isinstance(body, dict), f"{what}: the body is not a JSON object: {str(body)[:200]}")
    for name, kind in fields.items():
        value = body.get(name)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        check(ok, f"{what}: field {name!r} should be {_kind(kind)}, got {value!r}"[:300])


def _kind(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


# the WebSocket, at the protocol level ---------------------------------------------------------


class Chat:
    """One socket at the protocol level: the app's own `ClientProtocol` reads every frame."""

    def __init__(self, ws: ClientConnection, token: str) -> None:
        self.ws = ws
        self.protocol = ClientProtocol(token, use_delivery=False)
        self._sent = 0

    async def frame(self, what: str, limit: float = HANDSHAKE_LIMIT) -> str | bytes:
        return await receive(self.ws, what, limit)

    async def handshake(self) -> Opened:
        """§1.2 steps 1–3: the token, `authenticated`, then a ready frame."""
        await self.ws.send(self.protocol.start())
        answer = await self.frame("`authenticated`")
        check(
            self.protocol.receive(answer) == [TokenAccepted()],
            f"§1.2 step 2: the token was answered with {str(answer)[:200]!r}, "
            "expected `authenticated`",
        )
        raw = await self.frame("the ready frame")
        events = self.protocol.receive(raw)
        check(
            len(events) == 1 and isinstance(events[0], Opened),
            f"§1.2 step 3: after `authenticated` came {str(raw)[:200]!r}, expected a ready frame",
        )
        shape(
            json.loads(raw),
            {"content": str, "timestamp": str, "features": dict},
            "§1.2 step 3 ready",
        )
        opened = events[0]
        assert isinstance(opened, Opened)
        return opened

    async def ask(
        self, content: str, session_id: str, device_id: str, provider: str = "claude"
    ) -> ReplyDone:
        msg_id = self._next_id()
        frame = self.protocol.chat(
            msg_id,
            content,
            session_id=session_id,
            device_id=device_id,
            provider=provider,  # type: ignore[arg-type]
        )
        await self.ws.send(frame)
        return await self.reply(content)

    async def send_raw(self, frame: str, *, answered: bool = True) -> None:
        """A hand-made frame; with `answered`, a reply to it is awaited."""
        if answered:
            self.protocol.expect_reply(self._next_id())
        await self.ws.send(frame)

    async def reply(self, asked: str) -> ReplyDone:
        """§1.2 step 6: chunks (`message` or `stream`), then `complete`; an error frame fails."""
        while True:
            raw = await self.frame(f"the reply to “{asked}”", REPLY_LIMIT)
            for event in self.protocol.receive(raw):
                match event:
                    case ReplyChunk():
                        pass
                    case ReplyDone() as done:
                        check(
                            done.chunks > 0,
                            f"§1.2 step 6: `complete` came with no chunk before it "
                            f"(asked “{asked}”)",
                        )
                        return done
                    case ReplyFailed() as failed:
                        raise Failed(
                            f"§1.2 step 7: the backend answered “{asked}” with an error frame: "
                            + failed.message
                        )
                    case _:
                        raise Failed(
                            f"§1.2 step 6: unexpected frame during the reply to “{asked}”: "
                            f"{str(raw)[:200]!r}"
                        )

    async def next_events(self, what: str) -> list[ProtocolEvent]:
        return self.protocol.receive(await self.frame(what))

    def _next_id(self) -> str:
        self._sent += 1
        return f"contract-{self._sent}"


@asynccontextmanager
async def socket(target: Target, provider: str = "claude") -> AsyncIterator[ClientConnection]:
    url = frames.ws_url(target.url, provider)  # type: ignore[arg-type]
    try:
        async with websockets.connect(url, open_timeout=10, max_size=None) as ws:
            yield ws
    except (OSError, websockets.InvalidHandshake, TimeoutError) as exc:
        raise Failed(f"cannot open {url}: {exc}") from None


async def receive(ws: ClientConnection, what: str, limit: float = HANDSHAKE_LIMIT) -> str | bytes:
    try:
        async with asyncio.timeout(limit):
            return await ws.recv()
    except TimeoutError:
        raise Failed(f"no frame within {limit:.0f} s while waiting for {what}") from None
    except websockets.ConnectionClosed as exc:
        raise Failed(
            f"the socket closed ({exc.rcvd or 'no close frame'}) while waiting for {what}"
        ) from None


@asynccontextmanager
async def chat(target: Target, provider: str = "claude") -> AsyncIterator[Chat]:
    async with socket(target, provider) as ws:
        session = Chat(ws, target.token)
        await session.handshake()
        yield session


def counted(reply: ReplyDone, expected: int, where: str) -> None:
    count = reply.message_count
    check(
        count == expected,
        f"{where}: `complete` says message_count {count!r}, expected {expected} "
        "(user and assistant turns of the session together)",
    )


# §1.1 HTTP endpoints --------------------------------------------------------------------------


@CONTRACT.add("health", section("§1.1 GET /api/health"))
async def health(target: Target) -> None:
    """GET /api/health answers 200 with status, version, connections, sessions and bridgehub."""
    status, body = await target.json("GET", "/api/health")
    check(status == 200, f"GET /api/health answered {status}, expected 200")
    shape(
        body,
        {
            "status": str,
            "version": str,
            "timestamp": str,
            "connections": dict,
            "sessions": dict,
            "bridgehub": dict,
        },
        "/api/health",
    )
    check(body["status"] == "ok", f"/api/health status is {body['status']!r}, expected 'ok'")
    shape(body["connections"], {"claude": int, "codex": int}, "/api/health connections")
    shape(
        body["sessions"],
        {"total": int, "by_agent": dict, "by_device": dict},
        "/api/health sessions",
    )
    shape(body["bridgehub"], {"ready": bool}, "/api/health bridgehub")


@CONTRACT.add("status", section("§1.1 GET /api/status"))
async def status(target: Target) -> None:
    """GET /api/status with X-API-Key answers 200 "running" with version, health and features."""
    code, body = await target.json("GET", "/api/status", headers={"X-API-Key": target.token})
    check(code == 200, f"GET /api/status with the right key answered {code}, expected 200")
    shape(
        body,
        {"status": str, "version": str, "health": str, "timestamp": str, "features": dict},
        "/api/status",
    )
    check(
        body["status"] == "running", f"/api/status status is {body['status']!r}, expected 'running'"
    )


@CONTRACT.add("sessions-list", section("§1.1 GET /api/sessions"))
async def sessions_list(target: Target) -> None:
    """GET /api/sessions lists a session after its first exchange, with its agent, device and
    message count."""
    device, session_id = fresh_session()
    async with chat(target) as session:
        await session.ask("Hello, list me.", session_id, device)
    code, body = await target.json("GET", "/api/sessions")
    check(code == 200, f"GET /api/sessions answered {code}, expected 200")
    shape(body, {"total": int, "sessions": list}, "/api/sessions")
    found = [
        s for s in body["sessions"] if isinstance(s, dict) and s.get("session_id") == session_id
    ]
    check(found, f"/api/sessions does not list {session_id} after its first exchange")
    entry = found[0]
    shape(
        entry,
        {
            "agent_type": str,
            "device_id": str,
            "message_count": int,
            "created_at": str,
            "last_activity": str,
        },
        "a /api/sessions entry",
    )
    check(
        entry["agent_type"] == "claude" and entry["device_id"] == device,
        f"listed as {entry['agent_type']}/{entry['device_id']}, expected claude/{device}",
    )
    check(
        entry["message_count"] == 2,
        f"listed with message_count {entry['message_count']}, expected 2",
    )


@CONTRACT.add("close-active-session", section("§1.1 DELETE …/session/{id}/close"))
async def close_active(target: Target) -> None:
    """Closing an active session with the right token answers 200 with ok, session_id,
    process_killed and message."""
    device, session_id = fresh_session("codex")
    async with chat(target, "codex") as session:
        await session.ask("A session to close.", session_id, device, "codex")
    code, body = await target.close_session("codex", session_id)
    check(code == 200, f"closing an active session answered {code} {str(body)[:200]}, expected 200")
    shape(
        body,
        {"ok": bool, "session_id": str, "process_killed": bool, "message": str},
        "the close answer",
    )
    check(body["ok"] is True and body["session_id"] == session_id, f"the close answer is {body}")


@CONTRACT.add("close-unknown-session-404", section("§1.1 close: promised 404"))
async def close_unknown(target: Target) -> None:
    """Promise: closing a session the backend does not have answers 404 ("acceptable, may have
    timed out") — for an id never used, and for a session already closed."""
    _, never = fresh_session()
    code, body = await target.close_session("claude", never)
    check(
        code == 404,
        f"{PROMISE_404}: closing never-used {never} answered {code} {str(body)[:200]}",
    )
    device, session_id = fresh_session()
    async with chat(target) as session:
        await session.ask("Close me twice.", session_id, device)
    first, _ = await target.close_session("claude", session_id)
    check(first == 200, f"the first close of an active session answered {first}, expected 200")
    again, body = await target.close_session("claude", session_id)
    check(
        again == 404,
        f"{PROMISE_404}: closing {session_id} a second time answered {again} {str(body)[:200]}",
    )


@CONTRACT.add("close-wrong-token-401", section("§1.1 close: promised 401"))
async def close_wrong_token(target: Target) -> None:
    """Promise: closing with a wrong or missing token answers 401, and the session stays."""
    device, session_id = fresh_session()
    async with chat(target) as session:
        await session.ask("Nobody else may close me.", session_id, device)
        for token, label in ((target.token + "-wrong", "a wrong token"), ("", "no token")):
            code, body = await target.close_session("claude", session_id, token=token)
            check(
                code == 401,
                f"{PROMISE_401}: closing with {label} answered {code} {str(body)[:200]}",
            )
        reply = await session.ask("Still here?", session_id, device)
        counted(reply, 4, "§1.1 close with a wrong token must leave the session")


UPLOAD_BYTES = b"BuilderOS contract upload\n" * 40


@CONTRACT.add("upload", section("§1.1 POST /api/files/upload"))
async def upload(target: Target) -> None:
    """An upload answers 200 with an absolute url, /uploads/ path, base-name filename, size and
    type; the url serves the same bytes."""
    files = {"file": ("../../notes.txt", UPLOAD_BYTES, "text/plain")}
    code, body = await target.json(
        "POST",
        "/api/files/upload",
        headers={"X-API-Key": target.token},
        files=files,
        data={"type": "document"},
    )
    check(code == 200, f"the upload answered {code} {str(body)[:200]}, expected 200")
    shape(
        body,
        {"ok": bool, "url": str, "path": str, "filename": str, "size": int, "type": str},
        "the upload answer",
    )
    check(
        body["filename"] == "notes.txt",
        f"the filename is {body['filename']!r}: a path must be cut to its base name",
    )
    check(body["size"] == len(UPLOAD_BYTES), f"size {body['size']}, sent {len(UPLOAD_BYTES)} bytes")
    check(
        body["path"].startswith("/uploads/") and body["url"].startswith(("http://", "https://")),
        f"path {body['path']!r}, url {body['url']!r}",
    )
    served = await target.http.get(target.url + body["path"])
    check(
        served.status_code == 200 and served.content == UPLOAD_BYTES,
        f"GET {body['path']} answered {served.status_code} with {len(served.content)} bytes",
    )


@CONTRACT.add("upload-wrong-token-401", section("§1.1 upload: 401"))
async def upload_wrong_token(target: Target) -> None:
    """An upload with a wrong X-API-Key answers 401 {"ok": false, "error": "Unauthorized"}."""
    files = {"file": ("x.txt", b"x", "text/plain")}
    code, body = await target.json(
        "POST", "/api/files/upload", headers={"X-API-Key": "wrong"}, files=files
    )
    check(code == 401, f"an upload with a wrong key answered {code}, expected 401")
    check(isinstance(body, dict) and body.get("ok") is False, f"the 401 body is {str(body)[:200]}")


@CONTRACT.add("upload-missing-file-400", section("§1.1 upload: 400"))
async def upload_missing_file(target: Target) -> None:
    """An upload with no `file` part answers 400."""
    code, body = await target.json(
        "POST",
        "/api/files/upload",
        headers={"X-API-Key": target.token},
        files={"type": (None, "document")},
    )
    check(code == 400, f"an upload without a file answered {code} {str(body)[:200]}, expected 400")


@CONTRACT.add("upload-too-large-413", section("§1.1 upload: 413"))
async def upload_too_large(target: Target) -> None:
    """An upload past 50,000,000 bytes answers 413 with the limit."""
    big = b"\0" * 50_000_001
    code, body = await target.json(
        "POST",
        "/api/files/upload",
        headers={"X-API-Key": target.token},
        files={"file": ("big.bin", big, "application/octet-stream")},
    )
    check(code == 413, f"a 50,000,001-byte upload answered {code} {str(body)[:200]}, expected 413")
    check(
        isinstance(body, dict) and body.get("limit") == 50_000_000,
        f"the 413 body is {str(body)[:200]}",
    )


# §1.2 WebSocket, and §2.5 session history -----------------------------------------------------


@CONTRACT.add("session-history", section("§2.5 session history (extension)"))
async def session_history(target: Target) -> None:
    """When the backend advertises `session_history`: a session's turns come back a page at a
    time, newest page first, oldest first within it; 401 for a wrong key, 404 for an unknown
    session, 400 for a limit out of range. Skipped when the backend does not advertise it."""
    device, session_id = fresh_session()
    async with chat(target) as session:
        if not session.protocol.features.get("session_history"):
            raise Skipped("the backend does not advertise session_history in ready.features")
        await session.ask("Remember the word pelican.", session_id, device)
        await session.ask("The second exchange.", session_id, device)
    path = f"/api/sessions/{session_id}/messages"
    key = {"X-API-Key": target.token}
    code, newest = await target.json("GET", f"{path}?limit=3", headers=key)
    check(code == 200, f"GET {path}?limit=3 answered {code}, expected 200")
    shape(newest, {"session_id": str, "total": int, "messages": list}, path)
    check(newest["total"] == 4, f"total is {newest['total']}, expected 4 after two exchanges")
    roles = [m.get("role") for m in newest["messages"] if isinstance(m, dict)]
    check(roles == ["assistant", "user", "assistant"], f"the newest page's roles are {roles}")
    check(
        newest["messages"][1].get("content") == "The second exchange.",
        f"the newest page is not the last three turns, oldest first: {newest['messages']}",
    )
    before = newest.get("next_before")
    check(isinstance(before, int), f"next_before is {before!r} with a turn left before the page")
    code, first = await target.json("GET", f"{path}?limit=3&before={before}", headers=key)
    contents = [m.get("content") for m in (first or {}).get("messages", [])]
    check(
        code == 200 and contents == ["Remember the word pelican."],
        f"the page before answered {code} with {contents}, expected the first message",
    )
    wrong, _ = await target.json("GET", path, headers={"X-API-Key": "wrong-" + target.token})
    unknown, _ = await target.json("GET", f"{path}-unknown", headers=key)
    bad, _ = await target.json("GET", f"{path}?limit=0", headers=key)
    check(
        (wrong, unknown, bad) == (401, 404, 400),
        f"wrong key / unknown session / limit=0 answered {wrong}/{unknown}/{bad}, "
        "expected 401/404/400",
    )


@CONTRACT.add("ws-handshake", section("§1.2 steps 1–3"))
async def ws_handshake(target: Target) -> None:
    """The token as a text frame is answered `authenticated`, then a ready frame with content,
    timestamp and features."""
    async with socket(target) as ws:
        await Chat(ws, target.token).handshake()


@CONTRACT.add("ws-wrong-token", section("§1.2 step 2"))
async def ws_wrong_token(target: Target) -> None:
    """A wrong token is answered `error:invalid_api_key`, then the socket closes."""
    async with socket(target) as ws:
        protocol = ClientProtocol(target.token + "-wrong")
        await ws.send(protocol.start())
        answer = await receive(ws, "the answer to a wrong token")
        check(
            protocol.receive(answer) == [Refused("invalid_api_key")],
            f"a wrong token was answered {str(answer)[:200]!r}, expected 'error:invalid_api_key'",
        )
        await closes(ws, "after refusing the token")


async def closes(ws: ClientConnection, when: str) -> None:
    try:
        async with asyncio.timeout(HANDSHAKE_LIMIT):
            extra = await ws.recv()
    except websockets.ConnectionClosed:
        return
    except TimeoutError:
        raise Failed(f"the socket stayed open {when}") from None
    raise Failed(f"the socket sent {str(extra)[:200]!r} {when}, expected it to close")


@CONTRACT.add("ws-non-text-first-frame", section("§1.2 step 2"))
async def ws_binary_first(target: Target) -> None:
    """A first frame that is not text closes the socket without `authenticated`."""
    async with socket(target) as ws:
        await ws.send(target.token.encode())
        await closes(ws, "after a binary first frame")


@CONTRACT.add("ws-config-frame-ignored", section("§1.2 step 4"))
async def ws_config_frame(target: Target) -> None:
    """The iOS app's `{"working_directory": …}` frame gets no answer; the chat goes on."""
    device, session_id = fresh_session()
    async with chat(target) as session:
        config = json.dumps({"working_directory": "/Users/test/project"})
        await session.send_raw(config, answered=False)
        reply = await session.ask("After the config frame.", session_id, device)
        counted(reply, 2, "§1.2 step 4 (the config frame is not a message)")


@CONTRACT.add("ws-chat-streams-reply", section("§1.2 steps 5–6"))
async def ws_chat(target: Target) -> None:
    """A chat frame is answered by chunks (`message` or `stream`) and `complete`, whose
    message_count is 2 after the first exchange and 4 after the second."""
    device, session_id = fresh_session()
    async with chat(target) as session:
        first = await session.ask("Hello, first exchange.", session_id, device)
        check(first.text.strip(), "§1.2 step 6: the reply's chunks carry no text")
        counted(first, 2, "§1.2 step 6, first exchange")
        second = await session.ask("And the second exchange.", session_id, device)
        counted(second, 4, "§1.2 step 6, second exchange")


@CONTRACT.add("ws-empty-content-ignored", section("§1.2 step 5"))
async def ws_empty(target: Target) -> None:
    """A chat frame with empty content gets no answer and is not stored."""
    device, session_id = fresh_session()
    async with chat(target) as session:
        empty = frames.chat_frame("", session_id, device, "claude")
        await session.send_raw(empty, answered=False)
        reply = await session.ask("The only real message.", session_id, device)
        counted(reply, 2, "§1.2 step 5 (empty content is ignored)")


@CONTRACT.add("ws-attachments", section("§1.2 step 5"))
async def ws_attachments(target: Target) -> None:
    """A chat frame with attachments (one of them not an object, to be dropped) is answered."""
    device, session_id = fresh_session()
    frame = json.loads(frames.chat_frame("Here is a file.", session_id, device, "claude"))
    frame["attachments"] = [
        {
            "id": "a1",
            "filename": "notes.txt",
            "mime_type": "text/plain",
            "size": 3,
            "type": "document",
            "url": f"{target.url}/uploads/notes.txt",
        },
        "not an object",
    ]
    async with chat(target) as session:
        await session.send_raw(json.dumps(frame))
        reply = await session.reply("Here is a file.")
        counted(reply, 2, "§1.2 step 5 with attachments")


@CONTRACT.add("ws-defaults", section("§1.2 step 5"))
async def ws_defaults(target: Target) -> None:
    """Missing session_id means `default-claude-session`; missing device_id `unknown-device`."""
    async with chat(target) as session:
        no_ids = json.dumps({"content": "A message with no ids.", "chat_type": "jarvis"})
        await session.send_raw(no_ids)
        await session.reply("A message with no ids.")
    sessions = await target.sessions()
    default = sessions.get("default-claude-session")
    check(
        default is not None,
        "/api/sessions does not list default-claude-session after a message with no session_id",
    )
    assert default is not None
    check(
        default.get("device_id") == "unknown-device",
        f"default-claude-session has device_id {default.get('device_id')!r}, "
        "expected 'unknown-device'",
    )


@CONTRACT.add("ws-invalid-json", section("§1.2 step 7"))
async def ws_invalid_json(target: Target) -> None:
    """A frame that is not JSON gets an error frame, and the connection stays open."""
    device, session_id = fresh_session()
    async with chat(target) as session:
        await session.send_raw("this is not JSON {")
        events = await session.next_events("the answer to a frame that is not JSON")
        check(
            [type(e) for e in events] == [ReplyFailed],
            f"§1.2 step 7: a frame that is not JSON was answered with {events!r}"[:300]
            + ", expected an error frame",
        )
        reply = await session.ask("Still connected?", session_id, device)
        counted(reply, 2, "§1.2 step 7 (the connection stays open)")


@CONTRACT.add("ws-codex-path", section("§1.2 /api/codex/ws"))
async def ws_codex(target: Target) -> None:
    """The Codex path does the same handshake and streams a reply for `chat_type` codex."""
    device, session_id = fresh_session("codex")
    async with chat(target, "codex") as session:
        reply = await session.ask("Hello Codex.", session_id, device, "codex")
        counted(reply, 2, "§1.2 step 6 on the codex path")
    sessions = await target.sessions()
    check(
        sessions.get(session_id, {}).get("agent_type") == "codex",
        f"{session_id} is not listed as a codex session",
    )


@CONTRACT.add("ws-keepalive", section("§1.2 step 8"))
async def ws_keepalive(target: Target) -> None:
    """The server answers a ping with a pong (the app pings every 25 s)."""
    async with chat(target) as session:
        try:
            async with asyncio.timeout(HANDSHAKE_LIMIT):
                await (await session.ws.ping())
        except TimeoutError:
            raise Failed(f"no pong within {HANDSHAKE_LIMIT:.0f} s") from None


# §1.3 sessions --------------------------------------------------------------------------------


@CONTRACT.add("sessions-survive-reconnect", section("§1.3"))
async def survive_reconnect(target: Target) -> None:
    """A session continues over a new connection, and from another device."""
    device, session_id = fresh_session()
    async with chat(target) as session:
        await session.ask("Before reconnecting.", session_id, device)
    async with chat(target) as session:
        counted(
            await session.ask("After reconnecting.", session_id, device),
            4,
            "§1.3 on a new connection",
        )
    async with chat(target) as session:
        counted(
            await session.ask("From another device.", session_id, "contract-other-device"),
            6,
            "§1.3 from another device",
        )


@CONTRACT.add("sessions-survive-restart", section("§1.3"))
async def survive_restart(target: Target) -> None:
    """A session continues after the backend restarts."""
    target.require_restart()
    device, session_id = fresh_session()
    async with chat(target) as session:
        await session.ask("Before the restart.", session_id, device)
    await target.restart()
    async with chat(target) as session:
        counted(
            await session.ask("After the restart.", session_id, device), 4, "§1.3 after a restart"
        )
