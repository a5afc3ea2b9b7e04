"""The client side of one BuilderOS WebSocket (CONTRACT.md §2), sans I/O.

In the style of the `websockets` library's `Protocol`: a plain object that is handed each text
frame the socket received and returns the events it means, and that writes the frames to send.
It owns the handshake phases and which sent message a reply belongs to; it never touches a
socket, a timer or an event loop. The app's `TabConnection`, the harness's contract suite and
the tests' WebSocket client all drive this one object, so there is one reading of the wire.

    protocol = ClientProtocol(token)
    await ws.send(protocol.start())
    for event in protocol.receive(await ws.recv()): ...
    await ws.send(protocol.chat("m1", "hello", session_id=..., device_id=..., provider="claude"))
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tui.client.frames import (
    Authenticated,
    AuthRefused,
    Chunk,
    Complete,
    Ignored,
    Incoming,
    Provider,
    Ready,
    ServerError,
    Unexpected,
    chat_frame,
    clean_text,
    decode,
    ends_in_high_surrogate,
    excerpt,
)


class Stage(Enum):
    """Where the socket is in CONTRACT.md §2's order."""

    NEW = "new"
    """Nothing sent yet: `start()` gives the token frame."""
    AUTHENTICATING = "authenticating"
    """The token is sent; waiting for `authenticated`."""
    AWAITING_READY = "awaiting ready"
    OPEN = "open"
    """Ready came: chat frames may be sent."""
    REFUSED = "refused"
    """The server refused the token (`error:<what>`)."""
    FAILED = "failed"
    """The handshake broke the contract; the socket should be dropped."""


# events -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenAccepted:
    """`authenticated` came (§2 step 2)."""


@dataclass(frozen=True)
class Opened:
    """The ready frame came (§2 step 3): the socket is open for chat."""

    content: str
    features: dict[str, bool]


@dataclass(frozen=True)
class Refused:
    """The server refused the token; `what` is its reason (e.g. `invalid_api_key`)."""

    what: str


@dataclass(frozen=True)
class HandshakeFailed:
    """A frame the handshake does not allow; the socket is of no use."""

    frame: str
    why: str


@dataclass(frozen=True)
class ReplyChunk:
    reply_to: str | None
    """The message this chunk answers (None: no message awaits a reply)."""
    text: str


@dataclass(frozen=True)
class ReplyDone:
    """A `complete` frame ended the reply to `reply_to`."""

    reply_to: str | None
    text: str
    chunks: int
    message_count: int | None
    usage: dict[str, int] | None


@dataclass(frozen=True)
class ReplyFailed:
    """An `error` frame: it ends the reply being written, if any (its partial text is kept)."""

    reply_to: str | None
    content: str
    detail: str | None
    partial: str

    @property
    def message(self) -> str:
        return f"{self.content} ({self.detail})" if self.detail else self.content


@dataclass(frozen=True)
class ReplyInterrupted:
    """The connection was lost before this reply completed."""

    reply_to: str
    partial: str


@dataclass(frozen=True)
class ServerSaid:
    """A plain-text `error:<what>` after the handshake: a connection status, not a reply."""

    what: str


@dataclass(frozen=True)
class Strange:
    """A frame that means nothing here: reported, never a crash."""

    frame: str
    why: str


ProtocolEvent = (
    TokenAccepted
    | Opened
    | Refused
    | HandshakeFailed
    | ReplyChunk
    | ReplyDone
    | ReplyFailed
    | ReplyInterrupted
    | ServerSaid
    | Strange
)


# reply tracking ---------------------------------------------------------------------------------


@dataclass
class Awaited:
    msg_id: str
    chunks: list[str] = field(default_factory=list)
    held: str = ""
    """The first half of a character cut at the end of the last chunk, kept for the next."""

    @property
    def text(self) -> str:
        """The reply so far, clean (a half character still held is shown as U+FFFD)."""
        return "".join(self.chunks) + clean_text(self.held)

    def add(self, raw: str) -> str:
        """Take a chunk's text; returns what of it can be shown now, clean."""
        text, self.held = self.held + raw, ""
        if ends_in_high_surrogate(text):
            text, self.held = text[:-1], text[-1]
        text = clean_text(text)
        self.chunks.append(text)
        return text


class ProtocolError(Exception):
    """The caller used the protocol out of order (a bug in the caller, not on the wire)."""


# the protocol -----------------------------------------------------------------------------------


class ClientProtocol:
    """One socket's client side. A new socket gets a new protocol.

    The server answers one socket's messages strictly in order, so replies map to a FIFO of the
    messages sent and not yet answered; losing the connection ends each as interrupted.
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self.stage = Stage.NEW
        self.features: dict[str, bool] = {}
        self._awaiting: deque[Awaited] = deque()

    # what to send -------------------------------------------------------------------------------

    def start(self) -> str:
        """The first frame: the API token as plain text (§2 step 1)."""
        if self.stage is not Stage.NEW:
            raise ProtocolError(f"start() in stage {self.stage.value}")
        self.stage = Stage.AUTHENTICATING
        return self.token

    def chat(
        self,
        msg_id: str,
        content: str,
        *,
        session_id: str,
        device_id: str,
        provider: Provider,
        attachments: list[dict[str, Any]] | None = None,
    ) -> str:
        """The chat frame for a message (§2 step 5); its reply is awaited from now on."""
        if self.stage is not Stage.OPEN:
            raise ProtocolError(f"chat() in stage {self.stage.value}")
        frame = chat_frame(content, session_id, device_id, provider, attachments)
        self.expect_reply(msg_id)
        return frame

    def expect_reply(self, msg_id: str) -> None:
        """Await a reply to a frame sent by other means (a hand-made frame in a check)."""
        self._awaiting.append(Awaited(msg_id))

    def withdraw(self, msg_id: str) -> None:
        """The frame for `msg_id` could not be written after all: await no reply to it."""
        self._awaiting = deque(a for a in self._awaiting if a.msg_id != msg_id)

    # what was received --------------------------------------------------------------------------

    def receive(self, raw: str | bytes) -> list[ProtocolEvent]:
        """The events one received frame means. Never raises."""
        frame = decode(raw)
        match self.stage:
            case Stage.AUTHENTICATING | Stage.AWAITING_READY:
                return self._handshake(frame, raw)
            case Stage.OPEN:
                return self._open(frame)
            case _:
                return [Strange(excerpt(raw), f"a frame in stage {self.stage.value}")]

    def connection_lost(self) -> list[ReplyInterrupted]:
        """The socket is gone: every awaited reply ends as interrupted, with what it had."""
        lost = [ReplyInterrupted(a.msg_id, a.text) for a in self._awaiting]
        self._awaiting.clear()
        if self.stage not in (Stage.REFUSED, Stage.FAILED):
            self.stage = Stage.FAILED
        return lost

    @property
    def awaiting(self) -> int:
        """How many sent messages wait for their reply."""
        return len(self._awaiting)

    @property
    def current(self) -> Awaited | None:
        """The reply being written now, if any."""
        return self._awaiting[0] if self._awaiting else None

    # inside -------------------------------------------------------------------------------------

    def _handshake(self, frame: Incoming, raw: str | bytes) -> list[ProtocolEvent]:
        match frame:
            case Authenticated() if self.stage is Stage.AUTHENTICATING:
                self.stage = Stage.AWAITING_READY
                return [TokenAccepted()]
            case AuthRefused(what):
                self.stage = Stage.REFUSED
                return [Refused(what)]
            case Ready(content, features):
                # A server that skips `authenticated` still opened the socket; the contract
                # suite, which checks the order, sees that no TokenAccepted came first.
                self.stage = Stage.OPEN
                self.features = dict(features)
                return [Opened(content, dict(features))]
            case Ignored():
                return []  # the iOS app ignores `working_directory` echoes before ready
            case _:
                expected = "`authenticated`" if self.stage is Stage.AUTHENTICATING else "ready"
                self.stage = Stage.FAILED
                return [HandshakeFailed(excerpt(raw), f"expected {expected}")]

    def _open(self, frame: Incoming) -> list[ProtocolEvent]:
        match frame:
            case Chunk(text):
                awaited = self.current
                if awaited is None:
                    return [ReplyChunk(None, clean_text(text))]
                return [ReplyChunk(awaited.msg_id, awaited.add(text))]
            case Complete(count, usage):
                ended = self._finish()
                return [
                    ReplyDone(
                        ended.msg_id if ended else None,
                        ended.text if ended else "",
                        len(ended.chunks) if ended else 0,
                        count,
                        usage,
                    )
                ]
            case ServerError(content, detail):
                ended = self._finish()
                return [
                    ReplyFailed(
                        ended.msg_id if ended else None,
                        content,
                        detail,
                        ended.text if ended else "",
                    )
                ]
            case AuthRefused(what):
                return [ServerSaid(what)]
            case Ignored() | Ready() | Authenticated():
                return []
            case Unexpected(raw, why):
                return [Strange(raw, why)]
        return []  # pragma: no cover - every Incoming is matched above

    def _finish(self) -> Awaited | None:
        return self._awaiting.popleft() if self._awaiting else None
