"""One tab's connection: handshake, chat frames, keep-alive, reconnects and the outbox.

One task owns the socket, so a tab never has two live sockets (the iOS app's double connect sent
the token twice and lost messages). What the user sends while the tab is not connected waits in
the outbox and is written, in order, once it is. Everything that happens is reported as a
dataclass event through `on_event`; nothing here knows about a screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.uri import parse_uri

from tui.client.backoff import Backoff
from tui.client.frames import Provider, normalise_base_url, ws_url
from tui.client.inert import inert_line
from tui.client.notices import NoticeBudget
from tui.client.protocol import (
    AGENT_FEATURES,
    Acknowledged,
    ActivityReported,
    ApprovalAsked,
    ApprovalDecided,
    Awaited,
    ClientProtocol,
    HandshakeFailed,
    NotConfirmed,
    Opened,
    PlanReported,
    PresenceChanged,
    ProtocolEvent,
    Refused,
    ReplyChunk,
    ReplyDone,
    ReplyFailed,
    ReplyInterrupted,
    ReplyStopped,
    Requeued,
    ResumeDone,
    ServerSaid,
    SessionClosed,
    Strange,
    TokenAccepted,
    TurnReported,
)
from tui.client.state import ConnectionState, Phase

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 15.0
MAX_FRAME_BYTES = 16 * 1024 * 1024
TOO_BIG = 1009
"""The close code websockets sends when a frame is over `max_size`."""
RESTART_DELAY = 1.0
"""Seconds before a connection task that died of a bug is started again."""
STABLE_AFTER = 10.0
"""Seconds a socket must stay open before the reconnect delay starts again from its shortest:
a server that closes every socket just after the handshake is retried ever more slowly (it
once got 159 connections a minute from one tab)."""
READ_TURN = 0.01
"""Seconds the reader may take frames that were already queued before it lets the screen and
the keys have the event loop (a server sending at full speed never makes it wait)."""
GAP_WAIT = 5.0
"""Seconds to wait for a missing frame number before going on without it."""


class RedirectRefused(InvalidHandshake):
    """The server answered the handshake with a redirect to another origin: not followed,
    since the first frame on the socket is the API token."""

    def __init__(self, location: str) -> None:
        super().__init__(f"redirected to {location}")
        self.location = location


class _Connect(connect):
    """websockets' `connect`, following a redirect only within the same origin."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        target = super().process_redirect(exc)
        if isinstance(target, str):
            old, new = self.ws_uri, parse_uri(target)
            if (old.secure, old.host, old.port) != (new.secure, new.host, new.port):
                return RedirectRefused(target)
        return target


# events ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateChanged:
    state: ConnectionState


@dataclass(frozen=True)
class Delivered:
    """A message left the outbox and was written to the socket."""

    msg_id: str


@dataclass(frozen=True)
class Notice:
    """Something the user should know that is not a chat message (an odd frame, …)."""

    text: str


ReplyEvent = ReplyChunk | ReplyDone | ReplyFailed | ReplyInterrupted | ReplyStopped
DeliveryEvent = Acknowledged | NotConfirmed | Requeued | ResumeDone
AgentEvent = ActivityReported | PlanReported | ApprovalAsked | ApprovalDecided
"""The agent's work and questions (docs/protocol.md §4)."""
SyncEvent = TurnReported | PresenceChanged | SessionClosed
"""The other devices on the session (docs/protocol.md §5)."""
ClientEvent = (
    StateChanged | Delivered | ReplyEvent | DeliveryEvent | AgentEvent | SyncEvent | Notice
)


@dataclass(frozen=True)
class Outgoing:
    """A message waiting in the outbox, with the files uploaded for it (wire dicts)."""

    msg_id: str
    text: str
    attachments: tuple[dict[str, Any], ...] = ()


class _Drop(Exception):
    """End this socket and reconnect, for the reason given."""


# the connection ----------------------------------------------------------------------------------


class TabConnection:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        provider: Provider,
        session_id: str,
        device_id: str,
        device_name: str = "",
        on_event: Callable[[ClientEvent], Any],
        backoff: Backoff | None = None,
        open_timeout: float = 10.0,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        ping_interval: float = 25.0,
        ping_timeout: float = 20.0,
        probe_after: float = 4.0,
        probe_timeout: float = 3.0,
        last_seq: int | None = None,
        is_ours: Callable[[str], bool] | None = None,
        max_reply: int | None = None,
        gap_wait: float = GAP_WAIT,
        stable_after: float = STABLE_AFTER,
        wants: tuple[str, ...] = AGENT_FEATURES,
    ) -> None:
        """`probe_after`: with a message in flight and nothing heard for this long, the
        socket is probed (a ping that must be answered within `probe_timeout`), so a server
        that went away without closing is found in seconds, not at the next keep-alive.
        `last_seq`: the last numbered reply frame already taken (kept across restarts).
        `device_name`: what the other devices on the session call this one (sync).
        `is_ours`, `max_reply`, `wants`: see `ClientProtocol`."""
        self.base_url = normalise_base_url(base_url)
        self.url = ws_url(self.base_url, provider)
        self.token = token
        self.provider = provider
        self.session_id = session_id
        self.device_id = device_id
        self.device_name = device_name
        self.on_event = on_event
        self.backoff = backoff or Backoff()
        self.open_timeout = open_timeout
        self.handshake_timeout = handshake_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.probe_after = probe_after
        self.probe_timeout = probe_timeout
        self.last_seq = last_seq
        self.is_ours = is_ours
        self.max_reply = max_reply
        self.gap_wait = gap_wait
        self.stable_after = stable_after
        self.wants = wants
        self.notices = NoticeBudget()
        self.state = ConnectionState(Phase.STOPPED)
        self.outbox: deque[Outgoing] = deque()
        self.unconfirmed: list[Outgoing] = []
        """Messages written before a restart with no answer seen: sent again to a server that
        recognises ids, else reported as not confirmed."""
        self._carried: list[Awaited] = []
        self.protocol = self._protocol()
        """The current socket's protocol (a new one per socket)."""
        self._control: deque[str] = deque()
        self._heard = 0.0
        self._task: asyncio.Task[None] | None = None
        self._gap_timer: asyncio.TimerHandle | None = None
        self._summary_timer: asyncio.TimerHandle | None = None
        self._wake = asyncio.Event()
        self._outbox_ready = asyncio.Event()
        self.connects = 0
        """How many sockets this tab has opened (tests check there is never a second at once)."""

    # public ------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"connection {self.session_id}")
            self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """The task is never meant to end by itself: if a bug ended it, say so and restart."""
        if task.cancelled() or task is not self._task:
            return
        exc = task.exception()
        log.error("connection task of %s ended", self.session_id, exc_info=exc)
        self._emit(Notice(f"The connection stopped on an error ({exc!r}); restarting it."))
        self._set(ConnectionState(Phase.RECONNECTING, "restarting after an error"))
        asyncio.get_running_loop().call_later(RESTART_DELAY, self.start)

    async def stop(self) -> None:
        """Close the socket. A reply still streaming ends as interrupted, with what had
        arrived (quitting mid-reply used to drop it from the history)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for lost in self.protocol.connection_lost(final=True):
            self._emit(lost)
        for timer in (self._gap_timer, self._summary_timer):
            if timer is not None:
                timer.cancel()
        self._summarise()
        self._set(ConnectionState(Phase.STOPPED))

    def send(self, msg_id: str, text: str, attachments: tuple[dict[str, Any], ...] = ()) -> None:
        """Queue a message; it is written as soon as the tab is connected."""
        self.outbox.append(Outgoing(msg_id, text, attachments))
        self._outbox_ready.set()

    def stop_reply(self, msg_id: str) -> bool:
        """Stop the reply to `msg_id`. True: the server stops it (a `stopped` frame follows);
        False: this server cannot stop replies, so it ended here and the rest is dropped."""
        frame, events = self.protocol.stop(self.session_id, msg_id)
        for event in events:
            self._emit(event)
        if frame is None:
            return False
        self._control.append(frame)
        self._outbox_ready.set()
        return True

    def answer_approval(self, approval_id: str, decision: str) -> bool:
        """Answer the agent's question (docs/protocol.md §4.3); False: not connected to a
        server that asks (the question stays open, for this client or another)."""
        if self.state.phase is not Phase.CONNECTED or not self.protocol.approvals:
            return False
        self._control.append(self.protocol.answer(self.session_id, approval_id, decision))
        self._outbox_ready.set()
        return True

    def reconnect_now(self) -> None:
        """Skip the wait before the next attempt (also retries after a refused token)."""
        if self.state.phase in (Phase.RECONNECTING, Phase.UNREACHABLE, Phase.AUTH_FAILED):
            self.backoff.reset()
            self._wake.set()
        elif self._task is None or self._task.done():
            self.start()

    @property
    def busy(self) -> bool:
        """A reply is awaited or messages wait in the outbox."""
        return bool(self.protocol.awaiting) or bool(self.outbox)

    # the loop ----------------------------------------------------------------------------------

    def _set(self, state: ConnectionState) -> None:
        if state != self.state:
            self.state = state
            self._emit(StateChanged(state))

    def _protocol(self) -> ClientProtocol:
        options: dict[str, Any] = {} if self.max_reply is None else {"max_reply": self.max_reply}
        return ClientProtocol(
            self.token,
            last_seq=self.last_seq,
            carried=self._carried,
            session_id=self.session_id,
            is_ours=self.is_ours,
            wants=self.wants,
            **options,
        )

    def _notice(self, text: str) -> None:
        """A notice, within the budget: a flood of odd frames shows a few, then one line
        that counts the rest (20,000 of them once froze the screen for 47 s)."""
        loop = asyncio.get_running_loop()
        if self.notices.take(loop.time(), text):
            self._emit(Notice(text))
        elif self._summary_timer is None:
            self._summary_timer = loop.call_later(self.notices.window, self._summarise)

    def _summarise(self) -> None:
        self._summary_timer = None
        summary = self.notices.summary()
        if summary:
            self._emit(Notice(summary))

    def _emit(self, event: ClientEvent) -> None:
        """Hand an event to the owner. Whatever goes wrong there (a bug, a full disk) is
        reported and the socket goes on: nothing a frame causes may end the connection."""
        try:
            self.on_event(event)
        except Exception as exc:
            log.exception("handling %s failed", type(event).__name__)
            with contextlib.suppress(Exception):
                self.on_event(Notice(f"Could not handle a {type(event).__name__}: {exc!r}"))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._set(ConnectionState(Phase.CONNECTING))
            phase, reason = Phase.RECONNECTING, "connection lost"
            self.protocol = protocol = self._protocol()
            opened, since = False, None
            try:
                async with _Connect(
                    self.url,
                    open_timeout=self.open_timeout,
                    ping_interval=self.ping_interval,
                    ping_timeout=self.ping_timeout,
                    close_timeout=self.probe_timeout,
                    max_size=MAX_FRAME_BYTES,
                ) as ws:
                    opened = True
                    self.connects += 1
                    refused = await self._handshake(ws, protocol)
                    if refused is not None:
                        self._set(ConnectionState(Phase.AUTH_FAILED, refused))
                        await self._wait_for_wake()
                        continue
                    since = loop.time()
                    self._set(ConnectionState(Phase.CONNECTED))
                    await self._serve(ws, protocol)
                    reason = _closed(ws.close_code, ws.close_reason)
            except socket.gaierror as exc:
                phase, reason = Phase.NOT_FOUND, _host(self.base_url)
                log.info("cannot resolve %s: %s", self.url, exc)
            except TimeoutError:
                phase, reason = (Phase.NO_ANSWER if opened else Phase.UNREACHABLE), self.base_url
                log.info("no answer from %s (socket open: %s)", self.url, opened)
            except RedirectRefused as exc:
                phase = Phase.UNREACHABLE
                reason = (
                    f"{self.base_url}: it redirects to {inert_line(exc.location)[:200]}, "
                    "another address; not followed, so the token stays here"
                )
                log.warning("%s redirected to %s: refused", self.url, exc.location)
            except (OSError, InvalidHandshake, InvalidURI) as exc:
                phase, reason = Phase.UNREACHABLE, self.base_url
                log.info("cannot reach %s: %s", self.url, exc)
            except ConnectionClosed as exc:
                if exc.sent is not None and exc.sent.code == TOO_BIG:
                    reason = "the server sent a frame over the 16 MiB limit"
                    self._emit(Notice(f"Reply cut: {reason}; the text before it is kept."))
                elif exc.rcvd is not None:
                    reason = _closed(exc.rcvd.code, exc.rcvd.reason)
            except _Drop as exc:
                reason = str(exc)
                self._emit(Notice(f"Connection reset: {exc}"))
            except Exception as exc:  # a bug here must not end the tab's connection
                log.exception("connection to %s failed", self.url)
                reason = f"an error: {exc!r}"
                self._emit(Notice(f"The connection hit an error ({exc!r}) and reconnects."))
            self._lost(protocol)
            if since is not None and loop.time() - since >= self.stable_after:
                self.backoff.reset()  # it stayed up: this is a new trouble, retried soon
            delay = self.backoff.next_delay()
            self._set(ConnectionState(phase, reason, retry_at=loop.time() + delay))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait_for_wake(), delay)

    async def _wait_for_wake(self) -> None:
        self._wake.clear()
        await self._wake.wait()

    async def _handshake(self, ws: ClientConnection, protocol: ClientProtocol) -> str | None:
        """Token → `authenticated` → `ready`. Returns the refusal, if the server refused."""
        await ws.send(protocol.start())
        async with asyncio.timeout(self.handshake_timeout):
            while True:
                for event in protocol.receive(await ws.recv()):
                    match event:
                        case Refused(what):
                            return what
                        case Opened():
                            return None
                        case HandshakeFailed(frame, why):
                            raise _Drop(f"unexpected frame during the handshake ({why}): {frame}")
                        case TokenAccepted():
                            pass

    def _lost(self, protocol: ClientProtocol) -> None:
        """The socket is gone: messages never acknowledged go back to the front of the
        outbox, in order; replies acknowledged are carried to the next socket."""
        requeued: list[Outgoing] = []
        for event in protocol.connection_lost():
            if isinstance(event, Requeued):
                requeued.append(Outgoing(event.msg_id, event.text, event.attachments))
            self._emit(event)
        self.outbox.extendleft(reversed(requeued))
        self._carried = protocol.carry()
        self.last_seq = protocol.last_seq
        self._control.clear()

    async def _serve(self, ws: ClientConnection, protocol: ClientProtocol) -> None:
        self._heard = asyncio.get_running_loop().time()
        if protocol.delivery:
            hello = protocol.hello(self.device_id, self.device_name)
            if hello is not None:  # before the resume: its replay has the activity too
                await ws.send(hello)
            await ws.send(protocol.resume(self.session_id))
            self.outbox.extendleft(reversed(self.unconfirmed))
        else:
            for message in self.unconfirmed:
                self._emit(NotConfirmed(message.msg_id))
        self.unconfirmed = []
        tasks = {
            asyncio.create_task(self._read(ws, protocol)),
            asyncio.create_task(self._send_outbox(ws, protocol)),
            asyncio.create_task(self._probe(ws, protocol)),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()  # the reason this socket ended, if it was not a plain close

    async def _read(self, ws: ClientConnection, protocol: ClientProtocol) -> None:
        loop = asyncio.get_running_loop()
        turn = loop.time() + READ_TURN
        async for raw in ws:
            self._heard = now = loop.time()
            for event in protocol.receive(raw):
                self._report(event)
            self.last_seq = protocol.last_seq
            self._watch_gap(protocol)
            if now > turn:  # frames already queued are read without a pause: give one
                await asyncio.sleep(0)
                turn = loop.time() + READ_TURN

    def _watch_gap(self, protocol: ClientProtocol) -> None:
        """A missing frame number is waited for `gap_wait` seconds, then given up (a server
        that skips numbers would otherwise hold every later frame forever)."""
        missing = protocol.missing
        if missing is None or self._gap_timer is not None:
            return

        def give_up() -> None:
            self._gap_timer = None
            if protocol is self.protocol and protocol.missing == missing:
                for event in protocol.skip_gap():
                    self._report(event)
                self.last_seq = protocol.last_seq
            self._watch_gap(self.protocol)

        self._gap_timer = asyncio.get_running_loop().call_later(self.gap_wait, give_up)

    async def _probe(self, ws: ClientConnection, protocol: ClientProtocol) -> None:
        """Find a half-open socket: a message in flight and silence → a ping must be answered.
        A server that answers pings but never acknowledges is as good as gone."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.probe_after / 2)
            in_flight = protocol.unacknowledged if protocol.delivery else protocol.awaiting
            silent = loop.time() - self._heard
            if not in_flight or silent < self.probe_after:
                continue
            try:
                async with asyncio.timeout(self.probe_timeout):
                    await (await ws.ping())
            except TimeoutError:
                ws.transport.abort()  # a close handshake would wait on a peer that is gone
                raise _Drop(f"no answer for {silent:.0f} s, not even to a ping") from None
            if protocol.delivery and protocol.unacknowledged and silent > 3 * self.probe_after:
                ws.transport.abort()
                raise _Drop(f"a message was not acknowledged in {silent:.0f} s")

    async def _send_outbox(self, ws: ClientConnection, protocol: ClientProtocol) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while self._control:
                await ws.send(self._control[0])
                self._control.popleft()
            while self.outbox:
                outgoing = self.outbox[0]
                msg_id = outgoing.msg_id
                frame = protocol.chat(
                    msg_id,
                    outgoing.text,
                    session_id=self.session_id,
                    device_id=self.device_id,
                    provider=self.provider,
                    attachments=list(outgoing.attachments) or None,
                )
                try:
                    await ws.send(frame)
                except BaseException:
                    protocol.withdraw(msg_id)  # still in the outbox: sent on the next socket
                    raise
                self.outbox.popleft()
                if not protocol.awaiting - 1:
                    self._heard = loop.time()  # silence is counted from the first in flight
                self._emit(Delivered(msg_id))
            self._outbox_ready.clear()
            await self._outbox_ready.wait()

    def _report(self, event: ProtocolEvent) -> None:
        match event:
            case (
                ReplyChunk()
                | ReplyDone()
                | ReplyFailed()
                | ReplyInterrupted()
                | ReplyStopped()
                | Acknowledged()
                | ResumeDone()
                | ActivityReported()
                | PlanReported()
                | ApprovalAsked()
                | ApprovalDecided()
                | TurnReported()
                | PresenceChanged()
                | SessionClosed()
            ):
                self._emit(event)
            case ServerSaid(what):
                self._notice(f"The server said error: {what}")
            case Strange(frame, why):
                self._notice(f"Ignored an unexpected frame ({why}): {frame}")
            case _:
                pass


def _closed(code: int | None, why: str | None) -> str:
    """How the server ended the socket, for the status line."""
    if code is None:
        return "connection lost"
    said = f": {inert_line(why)[:120]}" if why else ""
    return f"the server closed the connection (code {code}{said})"


def _host(base_url: str) -> str:
    return urlsplit(base_url).hostname or base_url
