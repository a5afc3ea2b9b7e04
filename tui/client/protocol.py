"""The client side of one BuilderOS WebSocket (docs/protocol.md §1.2 and §2), sans I/O.

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

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tui.client.activity import (
    DECISIONS,
    ActivityItem,
    Approval,
    PlanEntry,
    approval_of,
    item_of,
    plan_of,
)
from tui.client.frames import (
    SYNC_FRAMES,
    Ack,
    AgentFrame,
    Authenticated,
    AuthRefused,
    Chunk,
    Complete,
    Cut,
    Ignored,
    Incoming,
    Numbered,
    Provider,
    Ready,
    Resumed,
    ServerError,
    Stopped,
    Unexpected,
    approve_frame,
    chat_frame,
    clean_text,
    decode,
    ends_in_high_surrogate,
    excerpt,
    hello_frame,
    resume_frame,
    stop_frame,
)
from tui.client.sync import Device, Turn, devices_of, turn_of


class Stage(Enum):
    """Where the socket is in the order of docs/protocol.md §1.2."""

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
    """`authenticated` came (§1.2 step 2)."""


@dataclass(frozen=True)
class Opened:
    """The ready frame came (§1.2 step 3): the socket is open for chat."""

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
class Acknowledged:
    """The server stored the message (delivery extension); `state` is where its reply stands."""

    msg_id: str
    state: str
    duplicate: bool = False


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
    cost_usd: float | None = None


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
    """The reply ended unfinished: the connection was lost (without resume), or the server
    said it could not finish (`why`)."""

    reply_to: str
    partial: str
    why: str = ""


@dataclass(frozen=True)
class ReplyStopped:
    """The reply was stopped on the user's request."""

    reply_to: str
    partial: str


@dataclass(frozen=True)
class NotConfirmed:
    """Written to a socket that dropped before any answer to it came, on a server that does not
    acknowledge: it may or may not have arrived (the user can resend it)."""

    msg_id: str


@dataclass(frozen=True)
class Requeued:
    """Written but not acknowledged when the socket dropped: it is sent again (the server
    recognises a repeated id, so it is never run twice)."""

    msg_id: str
    text: str
    attachments: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ResumeDone:
    """The server finished replaying what this client missed."""

    seq: int


@dataclass(frozen=True)
class ServerSaid:
    """A plain-text `error:<what>` after the handshake: a connection status, not a reply."""

    what: str


@dataclass(frozen=True)
class ActivityReported:
    """A tool call of the reply to `reply_to`, as it stands now (docs/protocol.md §4.2)."""

    reply_to: str | None
    item: ActivityItem


@dataclass(frozen=True)
class PlanReported:
    reply_to: str | None
    plan: tuple[PlanEntry, ...]


@dataclass(frozen=True)
class ApprovalAsked:
    """The agent asks to run a tool; any client may answer (docs/protocol.md §4.3)."""

    reply_to: str | None
    approval: Approval


@dataclass(frozen=True)
class ApprovalDecided:
    reply_to: str | None
    approval_id: str
    decision: str
    by: str
    reason: str = ""


@dataclass(frozen=True)
class TurnReported:
    """Another device's message to the session (docs/protocol.md §5.2): its reply follows."""

    turn: Turn


@dataclass(frozen=True)
class PresenceChanged:
    """The devices on the session now (§5.3)."""

    devices: tuple[Device, ...]


@dataclass(frozen=True)
class SessionClosed:
    """The session was closed, by `by` (a device id, or `unknown`) (§5.4)."""

    by: str


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
    | Acknowledged
    | ReplyChunk
    | ReplyDone
    | ReplyFailed
    | ReplyInterrupted
    | ReplyStopped
    | NotConfirmed
    | Requeued
    | ResumeDone
    | ServerSaid
    | ActivityReported
    | PlanReported
    | ApprovalAsked
    | ApprovalDecided
    | TurnReported
    | PresenceChanged
    | SessionClosed
    | Strange
)
Lost = Requeued | ReplyInterrupted | NotConfirmed
"""What losing the socket means for a message in flight."""
DELIVERY = ("message_ids", "resume")
"""The features the client needs to rely on acknowledgement and resume."""
AGENT_FEATURES = ("activity", "approvals", "sync")
"""The extensions of docs/protocol.md §4 and §5 the client asks for, when the server has
them."""
MAX_HELD = 200
"""Frames held while an earlier number is missing; past this the gap is given up."""
MAX_HELD_CHARS = 16 * 1024 * 1024
"""Reply text held while an earlier number is missing; past this the gap is given up too."""
MAX_REPLY_CHARS = 64 * 1024 * 1024
"""The longest reply kept (characters; `--max-reply`): what comes past it is dropped, said once,
so a runaway or hostile stream cannot take the machine's memory."""


# reply tracking ---------------------------------------------------------------------------------


@dataclass
class Awaited:
    msg_id: str
    text_sent: str = ""
    """The message itself, to send it again if it was never acknowledged."""
    attachments_sent: tuple[dict[str, Any], ...] = ()
    acknowledged: bool = False
    chunks: list[str] = field(default_factory=list)
    held: str = ""
    """The first half of a character cut at the end of the last chunk, kept for the next."""
    discard: bool = False
    """Stopped here on a server that cannot stop: what still comes for it is dropped."""
    size: int = 0
    """Characters taken so far."""
    dropped: int = 0
    """Characters dropped past the reply limit."""

    @property
    def text(self) -> str:
        """The reply so far, clean (a half character still held is shown as U+FFFD)."""
        return "".join(self.chunks) + clean_text(self.held)

    def add(self, raw: str, limit: int = MAX_REPLY_CHARS) -> str:
        """Take a chunk's text; returns what of it can be shown now, clean. Past `limit`
        characters nothing more is kept (`dropped` counts it)."""
        if self.dropped or self.size + len(raw) > limit:
            kept = max(0, limit - self.size)
            self.dropped += len(raw) - kept
            raw = raw[:kept]
        text, self.held = self.held + raw, ""
        if ends_in_high_surrogate(text):
            text, self.held = text[:-1], text[-1]
        text = clean_text(text)
        self.chunks.append(text)
        self.size += len(raw)
        return text


class ProtocolError(Exception):
    """The caller used the protocol out of order (a bug in the caller, not on the wire)."""


# the protocol -----------------------------------------------------------------------------------


class ClientProtocol:
    """One socket's client side. A new socket gets a new protocol.

    Against a reference server the replies map to a FIFO of the messages sent and not yet
    answered (it answers one socket's messages strictly in order), and losing the connection
    ends each. With the delivery extension (docs/protocol.md) each reply frame names its
    message and carries a per-session number: frames already seen are dropped, frames that
    come early wait for the missing one, and replies acknowledged on an earlier socket are
    carried over (`carried`), to be finished by the resumed stream.
    """

    def __init__(
        self,
        token: str,
        *,
        last_seq: int | None = None,
        carried: list[Awaited] | None = None,
        use_delivery: bool = True,
        session_id: str | None = None,
        is_ours: Callable[[str], bool] | None = None,
        max_reply: int = MAX_REPLY_CHARS,
        wants: tuple[str, ...] = AGENT_FEATURES,
    ) -> None:
        """`use_delivery=False` speaks the base contract even to a server offering more (the
        contract suite checks what the iOS app sees). `session_id`: frames naming another
        session are reported, not taken. `is_ours`: whether a message id this socket did not
        send is this client's all the same (sent before a restart); a reply to any other id
        is reported, not taken. `max_reply`: see MAX_REPLY_CHARS. `wants`: the extensions
        asked for when the server has them (a watcher that cannot answer the agent's questions
        leaves out `approvals`)."""
        self.token = token
        self.use_delivery = use_delivery
        self.session_id = session_id
        self.is_ours = is_ours
        self.max_reply = max_reply
        self.wants = wants
        self.stage = Stage.NEW
        self.features: dict[str, bool] = {}
        self.last_seq = last_seq
        """The number of the last reply frame taken (None: take whatever comes first)."""
        self.duplicates = 0
        """Numbered frames dropped because they had been taken already."""
        self._awaiting: dict[str, Awaited] = {a.msg_id: a for a in carried or ()}
        self._held: dict[int, Incoming] = {}
        self._held_chars = 0
        self._orphan: Awaited | None = None
        """Unnumbered reply text that came while no message awaited a reply."""
        self._last_reply: str | None = None
        """The text of the last reply ended, to recognise a server repeating it."""

    @property
    def delivery(self) -> bool:
        """The server acknowledges messages and can resume replies."""
        return self.use_delivery and all(self.features.get(name) for name in DELIVERY)

    # what to send -------------------------------------------------------------------------------

    def start(self) -> str:
        """The first frame: the API token as plain text (§1.2 step 1)."""
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
        """The chat frame for a message (§1.2 step 5); its reply is awaited from now on."""
        if self.stage is not Stage.OPEN:
            raise ProtocolError(f"chat() in stage {self.stage.value}")
        frame = chat_frame(
            content,
            session_id,
            device_id,
            provider,
            attachments,
            msg_id if self.delivery else None,
        )
        self.expect_reply(msg_id, content, attachments)
        return frame

    def hello(self, device_id: str, device_name: str = "") -> str | None:
        """The `hello` asking for the extensions the server has (None: it has none, or the
        delivery extension they build on is off). Sent before `resume`."""
        accept = [name for name in self.wants if self.features.get(name)]
        if not accept or not self.delivery:
            return None
        return hello_frame(accept, device_id, device_name)

    @property
    def sync(self) -> bool:
        """The other devices' turns, presence and closes come on this socket (§5)."""
        return self.delivery and "sync" in self.wants and bool(self.features.get("sync"))

    @property
    def approvals(self) -> bool:
        """This socket can answer approvals."""
        return self.delivery and "approvals" in self.wants and bool(self.features.get("approvals"))

    def answer(self, session_id: str, approval_id: str, decision: str) -> str:
        return approve_frame(session_id, approval_id, decision)

    def resume(self, session_id: str) -> str:
        """Ask for the reply frames numbered after the last one taken (delivery extension)."""
        return resume_frame(session_id, self.last_seq or 0)

    def stop(self, session_id: str, msg_id: str) -> tuple[str | None, list[ReplyStopped]]:
        """Stop the reply to `msg_id`: the frame to send if the server can stop replies (its
        `stopped` frame ends the reply), else the reply ends here now and what still comes for
        it is dropped."""
        if self.features.get("stop") and self.delivery:
            return stop_frame(session_id, msg_id), []
        awaited = self._awaiting.get(msg_id)
        if awaited is None or awaited.discard:
            return None, []
        awaited.discard = True
        return None, [ReplyStopped(msg_id, awaited.text)]

    def expect_reply(
        self, msg_id: str, text: str = "", attachments: list[dict[str, Any]] | None = None
    ) -> None:
        """Await a reply to a frame sent by other means (a hand-made frame in a check)."""
        self._awaiting[msg_id] = Awaited(msg_id, text, tuple(attachments or ()))

    def withdraw(self, msg_id: str) -> None:
        """The frame for `msg_id` could not be written after all: await no reply to it."""
        self._awaiting.pop(msg_id, None)

    # what was received --------------------------------------------------------------------------

    def receive(self, raw: str | bytes) -> list[ProtocolEvent]:
        """The events one received frame means. Never raises."""
        frame = decode(raw)
        match self.stage:
            case Stage.AUTHENTICATING | Stage.AWAITING_READY:
                return self._handshake(frame, raw)
            case Stage.OPEN:
                return self._in_order(frame)
            case _:
                return [Strange(excerpt(raw), f"a frame in stage {self.stage.value}")]

    def connection_lost(self, *, final: bool = False) -> list[Lost]:
        """The socket is gone. Without the delivery extension every awaited reply ends:
        interrupted with what it had, or, if nothing came for it, not confirmed. With it,
        unacknowledged messages are requeued and acknowledged ones are carried to the next
        socket (`carry`); `final` (the app is closing) ends them as interrupted."""
        lost: list[Lost] = []
        if self.stage is not Stage.OPEN and not final:
            # nothing was sent on a socket that never opened: what it carried goes on waiting
            self.stage = Stage.FAILED if self.stage is not Stage.REFUSED else self.stage
            return lost
        for awaited in list(self._awaiting.values()):
            if awaited.discard:
                del self._awaiting[awaited.msg_id]
            elif self.delivery and not awaited.acknowledged:
                lost.append(Requeued(awaited.msg_id, awaited.text_sent, awaited.attachments_sent))
                del self._awaiting[awaited.msg_id]
            elif self.delivery and not final:
                continue
            elif awaited.chunks or awaited.acknowledged:
                lost.append(ReplyInterrupted(awaited.msg_id, awaited.text))
                del self._awaiting[awaited.msg_id]
            else:
                lost.append(NotConfirmed(awaited.msg_id))
                del self._awaiting[awaited.msg_id]
        if self.stage not in (Stage.REFUSED, Stage.FAILED):
            self.stage = Stage.FAILED
        return lost

    def carry(self) -> list[Awaited]:
        """Replies acknowledged and unfinished, for the next socket's protocol."""
        return [a for a in self._awaiting.values() if a.acknowledged]

    @property
    def awaiting(self) -> int:
        """How many sent messages wait for their reply."""
        return len(self._awaiting)

    @property
    def unacknowledged(self) -> int:
        return sum(1 for a in self._awaiting.values() if not a.acknowledged)

    @property
    def current(self) -> Awaited | None:
        """The reply being written now (the oldest awaited), if any."""
        return next(iter(self._awaiting.values()), None)

    @property
    def missing(self) -> int | None:
        """The frame number awaited while later ones are held (None: no gap)."""
        return self.last_seq + 1 if self._held and self.last_seq is not None else None

    def skip_gap(self) -> list[ProtocolEvent]:
        """The missing frames did not come in time: go on from the first frame held."""
        if self.missing is None:
            return []
        missing = self.missing
        assert self.last_seq is not None
        self.last_seq = min(self._held) - 1
        return [Strange(f"frames {missing}–{self.last_seq}", "never came; skipped"), *self._flush()]

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

    def _in_order(self, frame: Incoming) -> list[ProtocolEvent]:
        """Numbered frames are taken once each, in number order."""
        if not isinstance(frame, Numbered):
            return self._open(frame)
        if frame.session_id and self.session_id and frame.session_id != self.session_id:
            return [Strange(_about(frame), f"a frame for another session ({frame.session_id})")]
        seq = frame.seq
        if seq is None:
            return self._open(frame)
        if self.last_seq is not None and seq <= self.last_seq:
            self.duplicates += 1
            return []
        if self.last_seq is not None and seq > self.last_seq + 1:
            if seq not in self._held:
                self._held[seq] = frame
                self._held_chars += len(frame.text) if isinstance(frame, Chunk) else 0
            if len(self._held) <= MAX_HELD and self._held_chars <= MAX_HELD_CHARS:
                return []
            return self.skip_gap()
        self.last_seq = seq
        return [*self._open(frame), *self._flush()]

    def _flush(self) -> list[ProtocolEvent]:
        """Take the held frames that now follow on."""
        events: list[ProtocolEvent] = []
        while self.last_seq is not None and self.last_seq + 1 in self._held:
            self.last_seq += 1
            frame = self._held.pop(self.last_seq)
            self._held_chars -= len(frame.text) if isinstance(frame, Chunk) else 0
            events += self._open(frame)
        if not self._held:
            self._held_chars = 0
        return events

    def _stranger(self, frame: Numbered) -> bool:
        """A reply frame naming a message this client never sent (nor carried)."""
        reply_to = frame.reply_to
        return (
            reply_to is not None
            and reply_to not in self._awaiting
            and self.is_ours is not None
            and not self.is_ours(reply_to)
        )

    def _awaited(self, reply_to: str | None) -> Awaited | None:
        """The reply a frame belongs to: the one it names, else the oldest (reference)."""
        if reply_to is None:
            return self.current
        awaited = self._awaiting.get(reply_to)
        if awaited is None:  # acknowledged on an earlier socket, or before a restart
            awaited = self._awaiting[reply_to] = Awaited(reply_to, acknowledged=True)
        return awaited

    def _open(self, frame: Incoming) -> list[ProtocolEvent]:
        if isinstance(frame, AgentFrame) and frame.kind in SYNC_FRAMES:
            return self._sync(frame)
        if isinstance(frame, Numbered) and self._stranger(frame):
            return [Strange(_about(frame), f"a reply to a message never sent ({frame.reply_to})")]
        match frame:
            case Ack(msg_id, state, duplicate):
                awaited = self._awaiting.get(msg_id)
                if awaited is None and self.is_ours is not None and not self.is_ours(msg_id):
                    return [Strange(_about(frame), f"an ack for a message never sent ({msg_id})")]
                if awaited is not None:
                    awaited.acknowledged = True
                    if state in ENDED:  # a repeat of a message whose reply has ended
                        del self._awaiting[msg_id]
                return [Acknowledged(msg_id, state, duplicate)]
            case Chunk(text):
                awaited = self._awaited(frame.reply_to)
                if awaited is None:  # nothing asked: kept until it ends, then judged
                    self._orphan = self._orphan or Awaited("")
                    self._orphan.add(text, self.max_reply)
                    return []
                if awaited.discard:
                    return []
                over = awaited.dropped
                shown = awaited.add(text, self.max_reply)
                events: list[ProtocolEvent] = [ReplyChunk(awaited.msg_id, shown)]
                if awaited.dropped and not over:
                    events.append(_cut_notice(self.max_reply))
                return events
            case AgentFrame(kind, data):
                return self._agent(frame, kind, data)
            case Complete(count, usage, cost):
                if frame.reply_to is None and not self._awaiting:
                    return self._orphan_done(count, usage)
                ended = self._finish(frame.reply_to)
                if ended is not None and ended.discard:
                    return []
                text = ended.text if ended else ""
                self._last_reply = text
                return [
                    ReplyDone(
                        ended.msg_id if ended else None,
                        text,
                        len(ended.chunks) if ended else 0,
                        count,
                        usage,
                        cost,
                    )
                ]
            case ServerError(content, detail):
                if frame.reply_to is None and not self._awaiting:
                    self._orphan = None
                    message = f"{content} ({detail})" if detail else content
                    return [ServerSaid(f"{message} (while no message awaited a reply)")]
                ended = self._finish(frame.reply_to)
                return [
                    ReplyFailed(
                        ended.msg_id if ended else None,
                        content,
                        detail,
                        ended.text if ended else "",
                    )
                ]
            case Stopped() | Cut():
                ended = self._finish(frame.reply_to)
                if ended is None:
                    return []
                if isinstance(frame, Stopped):
                    return [ReplyStopped(ended.msg_id, ended.text)]
                return [ReplyInterrupted(ended.msg_id, ended.text, frame.why)]
            case Resumed(seq, running):
                if self.last_seq is not None and seq < self.last_seq:
                    self.last_seq = seq  # the server's numbering began again (a new database)
                    self._held.clear()
                    self._held_chars = 0
                # replies this client awaits that the server no longer has: they were lost
                lost = [
                    a for a in self._awaiting.values() if a.acknowledged and a.msg_id not in running
                ]
                for awaited in lost:
                    del self._awaiting[awaited.msg_id]
                return [
                    *(
                        ReplyInterrupted(a.msg_id, a.text, "the server lost this reply")
                        for a in lost
                    ),
                    ResumeDone(seq),
                ]
            case AuthRefused(what):
                return [ServerSaid(what)]
            case Ignored() | Ready() | Authenticated():
                return []
            case Unexpected(raw, why):
                return [Strange(raw, why)]
        return []  # pragma: no cover - every Incoming is matched above

    def _agent(self, frame: AgentFrame, kind: str, data: dict[str, Any]) -> list[ProtocolEvent]:
        """An activity, plan or approval frame of a reply (docs/protocol.md §4)."""
        if kind == "skip":
            return []  # a number this socket did not ask to see
        awaited = self._awaited(frame.reply_to)
        if awaited is not None and awaited.discard:
            return []
        reply_to = awaited.msg_id if awaited is not None else frame.reply_to
        match kind:
            case "activity":
                item = item_of(data.get("item"), data.get("at"))
                if item is not None:
                    return [ActivityReported(reply_to, item)]
            case "plan":
                return [PlanReported(reply_to, plan_of(data.get("entries")))]
            case "approval":
                approval = approval_of(data.get("approval"), reply_to)
                if approval is not None:
                    return [ApprovalAsked(reply_to, approval)]
            case "approved":
                approval_id, decision = data.get("id"), data.get("decision")
                if isinstance(approval_id, str) and decision in DECISIONS:
                    by, reason = data.get("by"), data.get("reason")
                    return [
                        ApprovalDecided(
                            reply_to,
                            clean_text(approval_id),
                            str(decision),
                            clean_text(by)[:256] if isinstance(by, str) else "unknown",
                            clean_text(reason)[:1000] if isinstance(reason, str) else "",
                        )
                    ]
        return [Strange(_about(frame), f"a {kind} frame without what it must carry")]

    def _sync(self, frame: AgentFrame) -> list[ProtocolEvent]:
        """Another device's turn, who is on the session, or its close (docs/protocol.md §5)."""
        data = frame.data
        if frame.kind == "presence":
            return [PresenceChanged(devices_of(data.get("devices")))]
        if frame.kind == "closed":
            by = data.get("by")
            return [SessionClosed(clean_text(by)[:256] if isinstance(by, str) else "unknown")]
        msg_id = frame.reply_to
        if msg_id is None:
            return [Strange(_about(frame), "a turn that names no message")]
        if msg_id in self._awaiting or (self.is_ours is not None and self.is_ours(msg_id)):
            return []  # this client's own message (or one it has already)
        turn = turn_of(data, msg_id)
        if turn is None:
            return [Strange(_about(frame), "a turn without its text")]
        # its reply is awaited like one of ours; it is never sent again from here
        self._awaiting[msg_id] = Awaited(msg_id, acknowledged=True)
        return [TurnReported(turn)]

    def _orphan_done(self, count: int | None, usage: dict[str, int] | None) -> list[ProtocolEvent]:
        """A reply ended that no message asked for (unnumbered, nothing awaited): a server
        repeating its last answer is recognised; any other text is a reply to nothing, given
        as such; an empty one is only reported."""
        orphan, self._orphan = self._orphan, None
        text = orphan.text if orphan else ""
        if not text:
            return [Strange("complete", "a reply ended that no message awaited")]
        if text == self._last_reply:
            return [Strange(excerpt(text), "the server sent its last reply again; shown once")]
        self._last_reply = text
        assert orphan is not None
        return [ReplyDone(None, text, len(orphan.chunks), count, usage)]

    def _finish(self, reply_to: str | None) -> Awaited | None:
        if reply_to is not None:
            return self._awaiting.pop(reply_to, None) or Awaited(reply_to, acknowledged=True)
        if not self._awaiting:
            return None
        return self._awaiting.pop(next(iter(self._awaiting)))


def _about(frame: Numbered) -> str:
    """A frame, named for a notice."""
    kind = type(frame).__name__.lower()
    return f"{kind} frame" + (f" #{frame.seq}" if frame.seq is not None else "")


def _cut_notice(limit: int) -> Strange:
    return Strange(
        f"a reply over {limit:,} characters",
        "cut there: the text before it is kept, the rest is not (--max-reply)",
    )


ENDED = ("complete", "error", "interrupted", "stopped")
"""Reply states a duplicate acknowledgement can report that need no more waiting."""
