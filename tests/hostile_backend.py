"""A hostile BuilderOS backend: the wire contract of docs/protocol.md, broken on purpose.

The client must survive a backend that lies, floods, redirects and smuggles terminal control
sequences. This server speaks the contract normally (token → `authenticated` → `ready` with the
delivery extension, acks, numbered replies, resume, HTTP sessions and history) except for the one
thing its mode breaks. It records everything it receives, so tests can assert on what the client
sent (and that a redirect target got nothing).

From a test::

    async with HostileBackend("controls") as backend:
        run_the_client(backend.url)
        assert backend.frames ...

From a shell, for trying the client by hand::

    .venv/bin/python -m tests.hostile_backend --mode controls [--port 8080]
    builderos chat --url <printed URL> --token t --data-dir /tmp/hostile-chat

Modes (`MODES`): normal, controls, redirect, seq-overflow, seq-bad, other-session,
phantom-replies, duplicate, big-reply, flood-unknown, flood-errors, history-huge, history-loop,
sessions-huge, trickle, flap. Each is a `Mode` subclass below; its docstring says what it breaks.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar

from aiohttp import WSMsgType, web

# the hostile corpus ------------------------------------------------------------------------------

MARKER = "END-OF-HOSTILE"
"""The last line of the corpus reply: once it is on screen, the whole reply went through."""
ERROR_MARKER = "HOSTILE-ERROR"
"""Ends the content and the detail of the `error` frame that ends a failed reply (`controls`,
the message `error`): whichever is drawn last, the marker is on screen."""
ERRORS_DONE = "END-OF-ERRORS"
"""The last frame of the `controls` error sequence, an unnumbered `error` with only this text."""
HISTORY_MARKER = "END-OF-HISTORY"
"""The last line of the last answer in the `controls` history."""
HOSTILE_SESSION = "hostile-claude-session"
"""A plain session id whose history (in `controls`) is hostile; `--session` can name it."""

_CLIPBOARD = base64.b64encode(b"rm -rf ~").decode()
LONG_LINE = "0123456789" * 10_000
"""100,000 characters without a break."""
LONG_UNICODE = ("Grüße, 漢字, ünïcödé, Ελληνικά, עברית, 😀🚀👩‍💻 — " * 120).strip()
"""Long, multi-script, astral and joined text: valid Unicode, no lone surrogate."""

HOSTILE_SHORT_TEXTS: list[str] = [
    "C0:" + "".join(chr(c) for c in range(0x20)),
    "DEL:\x7f",
    "C1:" + "".join(chr(c) for c in range(0x80, 0xA0)),
    "CSI clear:\x1b[2J",
    "CSI red:\x1b[31mRED\x1b[0m",
    "CSI leave alt screen:\x1b[?1049l",
    "CSI cursor report:\x1b[6n",
    "CSI title report:\x1b[21t",
    "OSC 0:\x1b]0;PWNED-TITLE\x07",
    "OSC 2:\x1b]2;PWNED-TITLE\x1b\\",
    f"OSC 52 BEL:\x1b]52;c;{_CLIPBOARD}\x07",
    f"OSC 52 ST:\x1b]52;c;{_CLIPBOARD}\x1b\\",
    "OSC 8:\x1b]8;;file:///etc/passwd\x1b\\click me\x1b]8;;\x1b\\",
    "DCS:\x1bP+q544e\x1b\\",
    "DCS DECRQSS:\x1bP$qm\x1b\\",
    "APC:\x1b_Gi=31,a=q;PWNED\x1b\\",
    "PM:\x1b^PWNED-PM\x1b\\",
    "SOS:\x1bXPWNED-SOS\x1b\\",
    "8-bit CSI:\x9b2J",
    "8-bit OSC:\x9d0;PWNED-TITLE\x9c",
    "bidi:\u202eexe.txt\u202c and \u2066isolate\u2069 \u200f",
    "zero width:a\u200bb\u200cc\u200dd\ufeffe",
    "tags:\U000e0041" + "".join(chr(0xE0000 + ord(c)) for c in "PWNED") + "\U000e007f",
    "markup:[/]",
    "markup:[bold]x[/bold]",
    "markup:[link=file:///etc/passwd]click[/link]",
    "markup:[@click=app.quit]quit[/]",
    "markup:[red",
    "markup:$variable [b]not bold[/b] \\[escaped]",
]
"""Every hostile item short enough for a notice, an id or a file name."""
HOSTILE_TEXTS: list[str] = [LONG_LINE, LONG_UNICODE, *HOSTILE_SHORT_TEXTS]
"""The whole corpus, one item a line in `HOSTILE_TEXT`: the long ones first, so the short ones
are on the last screen of a reply, where a terminal test sees them drawn."""
HOSTILE_SHORT = "\n".join(HOSTILE_SHORT_TEXTS)
HOSTILE_TEXT = "\n".join(HOSTILE_TEXTS)
HOSTILE_REPLY = f"{HOSTILE_TEXT}\n{MARKER}"
"""The corpus reply of `controls`: the corpus, then the marker on a line of its own."""
HOSTILE_HISTORY_REPLY = f"{HOSTILE_SHORT}\n{HISTORY_MARKER}"
"""The last answer of the `controls` history."""
HOSTILE_ATTACHMENT: dict[str, Any] = {
    "id": "att-\x1b]0;PWNED-TITLE\x07",
    "filename": "\u202etxt.exe\x1b[2J\x1b]52;c;" + _CLIPBOARD + "\x07[/].png",
    "mime_type": "image/png",
    "size": 1,
    "type": "image",
    "url": "http://127.0.0.1:9/uploads/\x1b]8;;file:///etc/passwd\x1b\\x\x1b]8;;\x1b\\.png",
}
"""An attachment of a history message whose file name and URL carry the corpus (ST included)."""

FULL_FEATURES = {
    "message_ids": True,
    "resume": True,
    "stop": True,
    "history": True,
    "session_history": True,
}
"""The brief's `history` plus docs/protocol.md's name for it, `session_history`."""


def now() -> str:
    return datetime.now(UTC).isoformat()


def chunks_of(text: str, size: int = 100) -> Iterator[str]:
    """Cut as the reference server does: 100 characters a frame (an ESC sequence may straddle)."""
    for start in range(0, len(text), size):
        yield text[start : start + size]


# records -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedFrame:
    """One WebSocket frame a client sent (the token included)."""

    path: str
    text: str | None
    data: bytes | None
    at: float

    def json(self) -> Any:
        try:
            return json.loads(self.text) if self.text is not None else None
        except ValueError:
            return None


@dataclass(frozen=True)
class ReceivedRequest:
    """One HTTP request (WebSocket upgrades included)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    at: float


@dataclass
class Recorder:
    """What one server got: every frame, every request, every completed handshake."""

    frames: list[ReceivedFrame] = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)
    handshakes: list[float] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def frame(self, path: str, text: str | None, data: bytes | None) -> None:
        self.frames.append(ReceivedFrame(path, text, data, time.monotonic()))
        self.changed.set()

    def request(self, request: web.Request) -> None:
        self.requests.append(
            ReceivedRequest(
                request.method,
                request.path,
                request.query_string,
                dict(request.headers),
                time.monotonic(),
            )
        )
        self.changed.set()

    def handshake(self) -> None:
        self.handshakes.append(time.monotonic())
        self.changed.set()

    def chats(self) -> list[dict[str, Any]]:
        """The chat frames (JSON with `content`) received, in order."""
        return [
            data
            for data in (f.json() for f in self.frames)
            if isinstance(data, dict) and "content" in data and "type" not in data
        ]

    def handshakes_per_minute(self, window: float = 60.0) -> int:
        """Completed handshakes in the last `window` seconds (`flap`: a client's retry rate)."""
        cutoff = time.monotonic() - window
        return sum(1 for at in self.handshakes if at >= cutoff)

    async def wait(self, predicate: Any, timeout: float) -> None:
        """Until `predicate(self)` holds; TimeoutError after `timeout` seconds."""
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self.changed.clear()
                await self.changed.wait()


# one connection ----------------------------------------------------------------------------------


class Conn:
    """One accepted WebSocket after the handshake: sends frames, numbers them per session."""

    def __init__(self, backend: HostileBackend, ws: web.WebSocketResponse, path: str) -> None:
        self.backend = backend
        self.ws = ws
        self.path = path
        self.provider = "codex" if "/codex/" in path else "claude"

    async def send(self, frame: dict[str, Any] | str) -> None:
        if self.ws.closed:
            raise ConnectionResetError("client gone")
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    def next_seq(self, session_id: str) -> int:
        seq = self.backend.journal.get(session_id, 0) + 1
        self.backend.journal[session_id] = seq
        return seq

    async def ack(self, frame: dict[str, Any]) -> bool:
        """Acknowledge a chat frame with an id; False for a repeated id (answered, no turn)."""
        msg_id, sid = frame.get("id"), session_of(frame, self.provider)
        if not isinstance(msg_id, str) or not self.backend.mode.numbered:
            return True
        seen = self.backend.seen_ids.setdefault(sid, set())
        if msg_id in seen:
            dup = {"type": "ack", "id": msg_id, "state": "complete", "duplicate": True}
            await self.send({**dup, "timestamp": now()})
            return False
        seen.add(msg_id)
        ack = {"type": "ack", "id": msg_id, "state": "queued", "reply_to": msg_id}
        await self.send({**ack, "seq": self.backend.mode.seq(self, sid), "timestamp": now()})
        return True

    async def reply(
        self,
        frame: dict[str, Any],
        text: str,
        *,
        numbered: bool | None = None,
        end: dict[str, Any] | None = None,
    ) -> None:
        """Stream `text` in 100-character chunks, then `end` (default: `complete`)."""
        mode = self.backend.mode
        sid = session_of(frame, self.provider)
        msg_id = frame.get("id") if isinstance(frame.get("id"), str) else None
        numbered = mode.numbered and msg_id is not None if numbered is None else numbered
        self.backend.remember(sid, "user", str(frame.get("content", "")), frame)
        count = len(self.backend.history.get(sid, [])) + 1
        ending = end or {"type": "complete", "content": "Response complete", "message_count": count}
        for body in [*({"type": "message", "content": c} for c in chunks_of(text)), ending]:
            marks: dict[str, Any] = {}
            if numbered:
                marks = {"reply_to": msg_id, "seq": mode.seq(self, sid)}
            await self.send({**body, **marks, "timestamp": now()})
        self.backend.remember(sid, "assistant", text, frame)


def session_of(frame: dict[str, Any], provider: str) -> str:
    sid = frame.get("session_id")
    return sid if isinstance(sid, str) and sid else f"default-{provider}-session"


# modes -------------------------------------------------------------------------------------------


class Mode:
    """`normal`: the contract as docs/protocol.md has it; replies `echo: <message>`.

    Subclasses override one hook each to break one thing."""

    name: ClassVar[str] = "normal"
    numbered: ClassVar[bool] = True
    """Acks and reply frames carry `seq`/`reply_to` (the delivery extension)."""
    byte_delay: ClassVar[float] = 0.0
    """Seconds between the bytes of an HTTP body (`trickle`)."""

    def __init__(self, backend: HostileBackend) -> None:
        self.backend = backend

    def features(self) -> dict[str, bool]:
        return dict(FULL_FEATURES)

    def seq(self, conn: Conn, session_id: str) -> Any:
        """The number of the next journal frame of `session_id`."""
        return conn.next_seq(session_id)

    async def before_handshake(self, request: web.Request) -> web.StreamResponse | None:
        """An HTTP answer instead of the WebSocket upgrade, or None to upgrade."""
        return None

    async def after_ready(self, conn: Conn) -> None:
        """Right after `ready` (and before any client frame is answered)."""

    async def on_resume(self, conn: Conn, session_id: str, after: int) -> None:
        running: list[str] = []
        await conn.send(
            {
                "type": "resumed",
                "session_id": session_id,
                "seq": self.backend.journal.get(session_id, 0),
                "running": running,
            }
        )

    async def on_chat(self, conn: Conn, frame: dict[str, Any]) -> None:
        if await conn.ack(frame):
            await conn.reply(frame, f"echo: {frame.get('content')}")

    # HTTP bodies (JSON-able, or bytes chunks to stream)

    def health(self) -> Any:
        return {
            "status": "ok",
            "version": f"hostile-{self.name}",
            "timestamp": now(),
            "connections": {"claude": 0, "codex": 0},
            "sessions": {"total": len(self.backend.history), "by_agent": {}, "by_device": {}},
            "bridgehub": {"ready": True},
        }

    def sessions(self) -> Any:
        rows = [
            {
                "session_id": sid,
                "agent_type": "codex" if "-codex-" in sid else "claude",
                "device_id": sid.split("-")[0],
                "message_count": len(turns),
                "created_at": now(),
                "last_activity": now(),
            }
            for sid, turns in self.backend.history.items()
        ]
        return {"total": len(rows), "sessions": rows}

    def history(self, session_id: str, query: dict[str, str]) -> Any:
        """None: 404 (unknown session)."""
        turns = self.backend.history.get(session_id)
        if turns is None:
            return None
        return {
            "session_id": session_id,
            "total": len(turns),
            "messages": turns,
            "next_before": None,
        }


class Controls(Mode):
    """`controls`: the hostile corpus everywhere text reaches the client.

    - any message: the corpus reply (`HOSTILE_REPLY`, chunked, then `complete`);
    - the message `error`: a chunk, then an `error` end frame whose content and detail are
      the short corpus followed by `HOSTILE-ERROR`; then an unnumbered `error` frame, a frame
      of type `[/]x`, a non-JSON frame starting `[/]`, a plain-text `error:` frame, all with
      the short corpus, and last an unnumbered `error` frame `END-OF-ERRORS`;
    - `/api/sessions`: `HOSTILE_SESSION` plus one entry per short corpus item in its
      session_id, device_id and agent_type;
    - any session's history: a question, the whole corpus as its answer, a user turn with
      `HOSTILE_ATTACHMENT`, and the short corpus ending in `END-OF-HISTORY` as the last answer
      (so the attachment and the short corpus are on the history's last screen).
    """

    name = "controls"

    async def on_chat(self, conn: Conn, frame: dict[str, Any]) -> None:
        if not await conn.ack(frame):
            return
        if frame.get("content") != "error":
            await conn.reply(frame, HOSTILE_REPLY)
            return
        failed = {"type": "error", "content": f"{HOSTILE_SHORT}\n{ERROR_MARKER}"}
        detail = f"{HOSTILE_SHORT}\n{ERROR_MARKER}"
        await conn.reply(frame, "partial answer ", end={**failed, "detail": detail})
        notice = f"HOSTILE-NOTICE {HOSTILE_SHORT}"
        await conn.send({"type": "error", "content": notice, "detail": HOSTILE_SHORT})
        await conn.send({"type": "[/]x", "content": HOSTILE_SHORT, "timestamp": now()})
        await conn.send("[/]not json " + HOSTILE_SHORT)
        await conn.send("error:HOSTILE-STATUS " + HOSTILE_SHORT)
        await conn.send({"type": "error", "content": ERRORS_DONE, "timestamp": now()})

    def sessions(self) -> Any:
        rows = [
            {
                "session_id": HOSTILE_SESSION,
                "agent_type": "claude",
                "device_id": "hostile",
                "message_count": 2,
                "created_at": now(),
                "last_activity": now(),
            }
        ]
        for i, item in enumerate(HOSTILE_SHORT_TEXTS):
            rows.append(
                {
                    "session_id": f"hostile-{i}-{item}",
                    "agent_type": item,
                    "device_id": item,
                    "message_count": i,
                    "created_at": item,
                    "last_activity": now(),
                }
            )
        return {"total": len(rows), "sessions": rows}

    def history(self, session_id: str, query: dict[str, str]) -> Any:
        stamp = now()
        turns: list[tuple[str, str, dict[str, Any]]] = [
            ("user", "show me everything", {"message_id": "m-1"}),
            ("assistant", HOSTILE_TEXT, {"reply_to": "m-1", "status": "complete"}),
            ("user", "a file", {"message_id": "m-2", "attachments": [HOSTILE_ATTACHMENT]}),
            ("assistant", HOSTILE_HISTORY_REPLY, {"reply_to": "m-2", "status": "complete"}),
        ]
        messages = [
            {"number": n, "role": role, "content": text, "timestamp": stamp, "metadata": meta}
            for n, (role, text, meta) in enumerate(turns, 1)
        ]
        return {"session_id": session_id, "total": 4, "messages": messages, "next_before": None}


class Redirect(Mode):
    """`redirect`: every WebSocket upgrade is answered 302, `Location` on the canary server
    (another port, this process), which takes any token and records every frame: a client that
    follows gives its token to a host it was never told about."""

    name = "redirect"

    async def before_handshake(self, request: web.Request) -> web.StreamResponse | None:
        canary = self.backend.canary
        assert canary is not None
        target = f"ws://127.0.0.1:{canary.port}{request.path_qs}"
        return web.Response(status=302, headers={"Location": target}, text="moved")


class SeqOverflow(Mode):
    """`seq-overflow`: the first reply is numbered from 10**30 (its ack first); the replies to
    later messages are numbered again from where the journal was before (1, 2, …)."""

    name = "seq-overflow"

    def __init__(self, backend: HostileBackend) -> None:
        super().__init__(backend)
        self.replies = 0
        self.huge = 10**30

    def seq(self, conn: Conn, session_id: str) -> Any:
        if self.replies == 1:
            self.huge += 1
            return self.huge - 1
        return conn.next_seq(session_id)

    async def on_chat(self, conn: Conn, frame: dict[str, Any]) -> None:
        self.replies += 1
        await super().on_chat(conn, frame)


class SeqBad(Mode):
    """`seq-bad`: reply frames numbered -1, 1.5, "3", true, null, in turn, instead of 1, 2, …"""

    name = "seq-bad"
    BAD: ClassVar[list[Any]] = [-1, 1.5, "3", True, None, -(10**20), float("nan")]

    def __init__(self, backend: HostileBackend) -> None:
        super().__init__(backend)
        self.sent = 0

    def seq(self, conn: Conn, session_id: str) -> Any:
        self.sent += 1
        return self.BAD[(self.sent - 1) % len(self.BAD)]


class OtherSession(Mode):
    """`other-session`: before the real reply, a reply for another session (`session_id`
    `someone-else-claude-x`, `reply_to` the client's message, unnumbered) saying
    `OTHER-SESSION-LEAK`; a client that files it under its own message shows another user's
    text."""

    name = "other-session"

    async def on_chat(self, conn: Conn, frame: dict[str, Any]) -> None:
        if not await conn.ack(frame):
            return
        other = {"session_id": "someone-else-claude-x", "reply_to": frame.get("id")}
        await conn.send({"type": "message", "content": "OTHER-SESSION-LEAK", **other})
        await conn.send({"type": "complete", "content": "Response complete", **other})
        await conn.reply(frame, f"echo: {frame.get('content')}")


class PhantomReplies(Mode):
    """`phantom-replies`: after the first `resume` of a session, `count` (5,000) complete
    replies, numbered, for `reply_to` ids the client never sent; then `resumed`."""

    name = "phantom-replies"

    def __init__(self, backend: HostileBackend) -> None:
        super().__init__(backend)
        self.flooded: set[str] = set()

    async def on_resume(self, conn: Conn, session_id: str, after: int) -> None:
        if session_id not in self.flooded:
            self.flooded.add(session_id)
            self.backend.journal[session_id] = max(after, self.backend.journal.get(session_id, 0))
            for i in range(self.backend.count or 5_000):
                ghost = f"phantom-{i}"
                for body in (
                    {"type": "message", "content": f"PHANTOM {i}"},
                    {"type": "complete", "content": "Response complete", "message_count": 2},
                ):
                    seq = conn.next_seq(session_id)
                    await conn.send({**body, "reply_to": ghost, "seq": seq})
        await super().on_resume(conn, session_id, after)


class Duplicate(Mode):
    """`duplicate`: a base-contract server (no features) that sends every reply twice,
    unnumbered: the second copy arrives when no message is awaiting it."""

    name = "duplicate"
    numbered = False

    def features(self) -> dict[str, bool]:
        return {}

    async def on_chat(self, conn: Conn, frame: dict[str, Any]) -> None:
        text = f"echo: {frame.get('content')}"
        await conn.reply(frame, text, numbered=False)
        await conn.reply(frame, text, numbered=False)


class BigReply(Mode):
    """`big-reply`: each reply is `size_mib` MiB (10) of text in 100-character chunks, sent as
    fast as the socket takes them; it ends with the line `END-OF-HOSTILE`."""

    name = "big-reply"

    async def on_chat(self, conn: Conn, frame: dict[str, Any]) -> None:
        if not await conn.ack(frame):
            return
        line = "big reply filler text, line after line, nothing to see here " * 3 + "\n"
        size = int(self.backend.size_mib * 1024 * 1024)
        body = (line * (size // len(line) + 1))[:size]
        await conn.reply(frame, f"{body}\n{MARKER}")


class FloodUnknown(Mode):
    """`flood-unknown`: right after the first `ready`, `count` (20,000) frames of an unknown
    type; then normal."""

    name = "flood-unknown"

    def flood_frame(self, i: int) -> dict[str, Any]:
        return {"type": f"unknown-{i % 7}", "content": f"flood {i}", "timestamp": now()}

    async def after_ready(self, conn: Conn) -> None:
        if self.backend.flooded:
            return
        self.backend.flooded = True
        for i in range(self.backend.count or 20_000):
            await conn.send(self.flood_frame(i))


class FloodErrors(FloodUnknown):
    """`flood-errors`: right after the first `ready`, `count` (20,000) unnumbered `error`
    frames; then normal."""

    name = "flood-errors"

    def flood_frame(self, i: int) -> dict[str, Any]:
        return {"type": "error", "content": f"flood error {i}", "detail": "again"}


class HistoryHuge(Mode):
    """`history-huge`: any session's history is one page of `count` (1,000,000) messages,
    streamed (never built as one string); `next_before` null."""

    name = "history-huge"

    def history(self, session_id: str, query: dict[str, str]) -> Any:
        total = self.backend.count or 1_000_000

        def body() -> Iterator[bytes]:
            head = {"session_id": session_id, "total": total}
            yield (json.dumps(head)[:-1] + ', "messages": [').encode()
            batch: list[str] = []
            for n in range(1, total + 1):
                role = "user" if n % 2 else "assistant"
                item = {"number": n, "role": role, "content": f"message {n}", "metadata": {}}
                batch.append(json.dumps({**item, "timestamp": "2025-01-01T00:00:00+00:00"}))
                if len(batch) == 2_000 or n == total:
                    yield (("," if n > len(batch) else "") + ",".join(batch)).encode()
                    batch = []
            yield b'], "next_before": null}'

        return body()


class HistoryLoop(Mode):
    """`history-loop`: every history page holds one message and names as the page before it
    5, then 6, then 5 … forever (`next_before` never reaches null nor repeats the request)."""

    name = "history-loop"

    def history(self, session_id: str, query: dict[str, str]) -> Any:
        before = query.get("before")
        following = 6 if before == "5" else 5
        message = {
            "number": following,
            "role": "assistant",
            "content": f"loop page before={before}",
            "timestamp": now(),
            "metadata": {},
        }
        return {
            "session_id": session_id,
            "total": 2,
            "messages": [message],
            "next_before": following,
        }


class SessionsHuge(Mode):
    """`sessions-huge`: `/api/sessions` lists `count` (200,000) sessions, streamed."""

    name = "sessions-huge"

    def sessions(self) -> Any:
        total = self.backend.count or 200_000

        def body() -> Iterator[bytes]:
            yield f'{{"total": {total}, "sessions": ['.encode()
            batch: list[str] = []
            for n in range(total):
                row = {
                    "session_id": f"dev{n % 97}-claude-{n:08d}",
                    "agent_type": "claude",
                    "device_id": f"dev{n % 97}",
                    "message_count": n % 50,
                    "created_at": "2025-01-01T00:00:00+00:00",
                    "last_activity": "2025-01-02T00:00:00+00:00",
                }
                batch.append(json.dumps(row))
                if len(batch) == 2_000 or n == total - 1:
                    yield (("," if n >= len(batch) else "") + ",".join(batch)).encode()
                    batch = []
            yield b"]}"

        return body()


class Trickle(Mode):
    """`trickle`: every HTTP body (health, sessions, history, close) is sent one byte a
    second; the WebSockets are normal."""

    name = "trickle"
    byte_delay: ClassVar[float] = 1.0


class Flap(Mode):
    """`flap`: every socket is closed 100 ms after a full handshake (`ready` sent); the
    recorder's `handshakes_per_minute()` tells how fast a client comes back."""

    name = "flap"

    async def after_ready(self, conn: Conn) -> None:
        await asyncio.sleep(0.1)
        await conn.ws.close()


MODES: dict[str, type[Mode]] = {
    mode.name: mode
    for mode in (
        Mode,
        Controls,
        Redirect,
        SeqOverflow,
        SeqBad,
        OtherSession,
        PhantomReplies,
        Duplicate,
        BigReply,
        FloodUnknown,
        FloodErrors,
        HistoryHuge,
        HistoryLoop,
        SessionsHuge,
        Trickle,
        Flap,
    )
}


# the servers -------------------------------------------------------------------------------------


class Canary:
    """The redirect target: authenticates anyone and records every frame and request. It must
    never hear from a client that was sent elsewhere by a redirect."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.record = Recorder()
        self._runner: web.AppRunner | None = None

    @property
    def frames(self) -> list[ReceivedFrame]:
        return self.record.frames

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = _port_of(self._runner)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _any(self, request: web.Request) -> web.StreamResponse:
        self.record.request(request)
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"canary": True})
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        async for msg in ws:
            text = msg.data if msg.type is WSMsgType.TEXT else None
            data = msg.data if msg.type is WSMsgType.BINARY else None
            self.record.frame(request.path, text, data)
            if len(self.record.frames) == 1:
                await ws.send_str("authenticated")
                ready = {"type": "ready", "content": "canary", "features": FULL_FEATURES}
                await ws.send_str(json.dumps(ready))
        return ws


class HostileBackend:
    """The hostile server, in-process on an ephemeral port (or `port`); see the module doc.

    `frames`, `requests` and `handshakes` record what clients did; `canary` (mode `redirect`)
    is the second server a redirect points to."""

    def __init__(
        self,
        mode: str = "controls",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        size_mib: float = 10,
        count: int | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        self.host = host
        self.port = port
        self.size_mib = size_mib
        self.count = count
        self.record = Recorder()
        self.journal: dict[str, int] = {}
        self.seen_ids: dict[str, set[str]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.flooded = False
        self.canary: Canary | None = Canary(host) if mode == "redirect" else None
        self.mode: Mode = MODES[mode](self)
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    # recorded

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def frames(self) -> list[ReceivedFrame]:
        return self.record.frames

    @property
    def requests(self) -> list[ReceivedRequest]:
        return self.record.requests

    def remember(self, session_id: str, role: str, content: str, frame: dict[str, Any]) -> None:
        turns = self.history.setdefault(session_id, [])
        meta: dict[str, Any] = {}
        if isinstance(frame.get("id"), str):
            meta = {"message_id" if role == "user" else "reply_to": frame["id"]}
        if role == "assistant":
            meta["status"] = "complete"
        turns.append(
            {
                "number": len(turns) + 1,
                "role": role,
                "content": content,
                "timestamp": now(),
                "metadata": meta,
            }
        )

    # life

    async def start(self) -> None:
        if self.canary is not None:
            await self.canary.start()
        app = web.Application()
        app.middlewares.append(self._record_requests)
        for provider in ("claude", "codex"):
            app.router.add_get(f"/api/{provider}/ws", self._ws)
            app.router.add_delete(f"/api/{provider}/session/{{session_id}}/close", self._close)
        app.router.add_get("/api/health", self._health)
        app.router.add_get("/api/status", self._status)
        app.router.add_get("/api/sessions", self._sessions)
        app.router.add_get("/api/sessions/{session_id}/messages", self._history)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = _port_of(self._runner)

    async def stop(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 0.5)
        if self._runner is not None:
            await self._runner.cleanup()
        if self.canary is not None:
            await self.canary.stop()

    async def __aenter__(self) -> HostileBackend:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # HTTP

    @web.middleware
    async def _record_requests(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.record.request(request)
        response: web.StreamResponse = await handler(request)
        return response

    async def _respond(
        self, request: web.Request, body: Any, status: int = 200
    ) -> web.StreamResponse:
        """JSON (or an iterator of bytes, streamed); one byte a second in `trickle`."""
        parts: Iterable[bytes] = body if isinstance(body, Iterator) else [json.dumps(body).encode()]
        response = web.StreamResponse(status=status)
        response.content_type = "application/json"
        delay = self.mode.byte_delay
        await response.prepare(request)
        try:
            for part in parts:
                if delay:
                    for i in range(len(part)):
                        await response.write(part[i : i + 1])
                        await asyncio.sleep(delay)
                else:
                    await response.write(part)
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client gave up on a slow or huge body
        return response

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return await self._respond(request, self.mode.health())

    async def _status(self, request: web.Request) -> web.StreamResponse:
        status = {"status": "running", "version": f"hostile-{self.mode.name}", "health": "ok"}
        body = {**status, "timestamp": now(), "features": self.mode.features()}
        return await self._respond(request, body)

    async def _sessions(self, request: web.Request) -> web.StreamResponse:
        return await self._respond(request, self.mode.sessions())

    async def _history(self, request: web.Request) -> web.StreamResponse:
        sid = request.match_info["session_id"]
        body = self.mode.history(sid, dict(request.query))
        if body is None:
            return await self._respond(request, {"error": "Session not found"}, 404)
        return await self._respond(request, body)

    async def _close(self, request: web.Request) -> web.StreamResponse:
        sid = request.match_info["session_id"]
        body = {"ok": True, "session_id": sid, "process_killed": False, "message": "closed"}
        return await self._respond(request, body)

    # WebSocket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        refused = await self.mode.before_handshake(request)
        if refused is not None:
            return refused
        ws = web.WebSocketResponse(max_msg_size=0, heartbeat=None)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await self._serve(ws, request.path)
        finally:
            self._sockets.discard(ws)
        return ws

    async def _serve(self, ws: web.WebSocketResponse, path: str) -> None:
        try:
            first = await ws.receive(timeout=10)
        except TimeoutError:
            await ws.close()
            return
        if first.type is not WSMsgType.TEXT:
            await ws.close()
            return
        self.record.frame(path, first.data, None)
        if not first.data:
            await ws.send_str("error:invalid_api_key")
            await ws.close()
            return
        conn = Conn(self, ws, path)
        await ws.send_str("authenticated")
        ready = {"type": "ready", "content": "hostile", "features": self.mode.features()}
        await ws.send_str(json.dumps({**ready, "timestamp": now()}))
        self.record.handshake()
        inbox: asyncio.Queue[str | None] = asyncio.Queue()
        worker = asyncio.create_task(self._work(conn, inbox))
        try:
            async for msg in ws:  # read all the time: pings are answered during a flood
                if msg.type is WSMsgType.TEXT:
                    self.record.frame(path, msg.data, None)
                    inbox.put_nowait(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    self.record.frame(path, None, msg.data)
        finally:
            inbox.put_nowait(None)
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker

    async def _work(self, conn: Conn, inbox: asyncio.Queue[str | None]) -> None:
        try:
            await self.mode.after_ready(conn)
            while (raw := await inbox.get()) is not None:
                await self._answer(conn, raw)
        except (ConnectionResetError, RuntimeError):
            pass  # the client went away mid-send

    async def _answer(self, conn: Conn, raw: str) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            await conn.send({"type": "error", "content": "Invalid message format"})
            return
        if not isinstance(frame, dict):
            await conn.send({"type": "error", "content": "Invalid message format"})
            return
        kind = frame.get("type")
        if kind == "resume" and self.mode.numbered:
            after = frame.get("after")
            await self.mode.on_resume(
                conn,
                session_of(frame, conn.provider),
                after if isinstance(after, int) and not isinstance(after, bool) else 0,
            )
        elif kind in ("stop", "resume"):
            pass  # nothing runs long enough to stop
        elif isinstance(frame.get("content"), str) and frame["content"]:
            await self.mode.on_chat(conn, frame)


def _port_of(runner: web.AppRunner) -> int:
    server = runner.addresses
    return int(server[0][1])


# from a shell ------------------------------------------------------------------------------------


async def _serve_forever(args: argparse.Namespace) -> None:
    backend = HostileBackend(args.mode, port=args.port, size_mib=args.size, count=args.count)
    await backend.start()
    print(f"hostile backend, mode {args.mode}: {backend.url}", flush=True)
    print(f"  builderos chat --url {backend.url} --token t --data-dir /tmp/hostile-chat")
    if backend.canary is not None:
        print(f"canary (redirect target): http://127.0.0.1:{backend.canary.port}", flush=True)
    try:
        last = 0
        while True:
            await asyncio.sleep(1)
            seen = len(backend.frames) + (len(backend.canary.frames) if backend.canary else 0)
            if seen != last:
                last = seen
                extra = f", canary got {len(backend.canary.frames)}" if backend.canary else ""
                flaps = backend.record.handshakes_per_minute()
                print(f"  frames {len(backend.frames)}{extra}, handshakes/min {flaps}", flush=True)
    finally:
        await backend.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.hostile_backend",
        description=__doc__.split("\n")[0] if __doc__ else "",
    )
    parser.add_argument("--mode", choices=sorted(MODES), default="controls")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--size", type=float, default=10, help="big-reply: MiB")
    parser.add_argument("--count", type=int, default=None, help="flood/huge modes: how many")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args))


if __name__ == "__main__":
    main(sys.argv[1:])
