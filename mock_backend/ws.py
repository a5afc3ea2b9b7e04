"""The WebSocket endpoints `/api/claude/ws` and `/api/codex/ws` (docs/protocol.md §1.2,
the delivery extension of §2, and the activity and approvals of §4).

The handler reads frames continuously (so pings are answered and a disconnect is seen even while
a long reply streams) and hands them to one worker per connection, which answers them strictly
in order: errors for bad frames included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import WSMessage, WSMsgType, web

from mock_backend.delivery import Deliveries
from mock_backend.faults import Faults
from mock_backend.store import StoreError
from mock_backend.throttle import FailureThrottle
from mock_backend.turns import ClientGone, TurnRunner
from mock_backend.wire import (
    ACTIVITY_FRAMES,
    APPROVAL_FRAMES,
    AUTH_FAILED,
    AUTH_OK,
    MAX_FRAME_BYTES,
    SYNC_FRAMES,
    Agent,
    ApproveRequest,
    ChatRequest,
    ClientRequest,
    FrameError,
    HelloRequest,
    ResumeRequest,
    StopRequest,
    WorkdirRequest,
    error_frame,
    parse_client_frame,
    ready_frame,
    skip_frame,
)

log = logging.getLogger(__name__)

HARD_FRAME_LIMIT = 16 * MAX_FRAME_BYTES
"""Past this aiohttp closes the socket with 1009; between the two, an error frame answers."""
MAX_QUEUED = 1000
"""Frames waiting for an answer (chat turns and error replies) before the socket is closed."""
Work = ClientRequest | dict[str, Any]
"""A chat turn to run, a delivery request, or an error frame to send, in the order they came."""


class ChatSocket:
    """Serves one agent's WebSocket endpoint."""

    def __init__(
        self,
        agent: Agent,
        runner: TurnRunner,
        token_ok: Callable[[str], bool],
        throttle: FailureThrottle,
        *,
        deliveries: Deliveries | None = None,
        faults: Faults | None = None,
        auth_timeout: float = 10.0,
        heartbeat: float = 30.0,
        receive_timeout: float = 600.0,
    ) -> None:
        self.agent = agent
        self.runner = runner
        self.token_ok = token_ok
        self.throttle = throttle
        self.deliveries = deliveries
        """None: `--features none`, the reference server's protocol only."""
        self.faults = faults or Faults()
        self.frozen = asyncio.Event()
        """Set on a lingering shutdown: sockets stay open, and nothing is read or sent."""
        self._requests: dict[web.WebSocketResponse, web.Request] = {}
        self.auth_timeout = auth_timeout
        self.heartbeat = heartbeat
        self.receive_timeout = receive_timeout
        self.connections = 0
        self.sockets: set[web.WebSocketResponse] = set()

    def freeze(self) -> None:
        """Hold every socket open and silent (a server in a slow graceful shutdown): nothing
        is read, so pings go unanswered, and nothing more is sent."""
        self.frozen.set()
        for request in self._requests.values():
            if request.transport is not None:
                request.transport.pause_reading()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.faults.refusing() or self.frozen.is_set():
            return web.json_response(
                {"ok": False, "error": "Service unavailable (fault injected)"}, status=503
            )
        ws = web.WebSocketResponse(
            heartbeat=self.heartbeat,
            receive_timeout=self.receive_timeout,
            max_msg_size=HARD_FRAME_LIMIT,
        )
        await ws.prepare(request)
        self.sockets.add(ws)
        self._requests[ws] = request
        try:
            if await self._authenticate(ws, request.remote or "unknown"):
                await self._serve(ws)
        finally:
            self.sockets.discard(ws)
            self._requests.pop(ws, None)
        return ws

    async def _authenticate(self, ws: web.WebSocketResponse, address: str) -> bool:
        try:
            first = await ws.receive(timeout=self.auth_timeout)
        except TimeoutError:
            await ws.close(code=1008, message=b"authentication timeout: send the API token first")
            return False
        if first.type != WSMsgType.TEXT:
            if first.type == WSMsgType.BINARY:
                await ws.close(code=1008, message=b"expected the API token as a text frame")
            return False
        if not self.token_ok(first.data.strip()):
            wait = self.throttle.failed(address)
            log.warning("%s socket: invalid API key (answered in %.2f s)", self.agent, wait)
            await asyncio.sleep(wait)
            await ws.send_str(AUTH_FAILED)
            await ws.close(code=1008, message=b"invalid api key")
            return False
        self.throttle.succeeded(address)
        await ws.send_str(AUTH_OK)
        deliveries = self.deliveries
        await ws.send_json(
            ready_frame(
                self.agent, deliveries is not None, deliveries is not None and deliveries.sync
            )
        )
        return True

    async def _serve(self, ws: web.WebSocketResponse) -> None:
        self.connections += 1
        queue: asyncio.Queue[Work] = asyncio.Queue()
        out = _Outgoing(ws, self.frozen, self.faults)
        worker = asyncio.create_task(self._work(out, queue))
        worker.add_done_callback(lambda task: self._worker_ended(ws, task))
        followers: dict[str, asyncio.Task[None]] = {}
        try:
            async for msg in ws:
                work = self._classify(msg)
                if isinstance(work, WorkdirRequest):
                    out.workdir = work.path  # the config frame: no answer (docs/protocol.md §1.2)
                    continue
                if isinstance(work, ChatRequest) and out.workdir is not None:
                    work = replace(work, workdir=out.workdir)
                if work is None:
                    continue  # needs no answer: never queued, never counted
                if self.deliveries is not None and self._deliver(work, out, followers):
                    continue  # taken at once: acknowledged however busy the worker is
                if queue.qsize() >= MAX_QUEUED:
                    await ws.close(code=1008, message=b"too many messages waiting for an answer")
                    break
                queue.put_nowait(work)
        except TimeoutError:
            await ws.close(code=1000, message=b"idle timeout")
        finally:
            self.connections -= 1
            for task in (worker, *followers.values()):
                task.cancel()
            await asyncio.gather(worker, *followers.values(), return_exceptions=True)
            if self.deliveries is not None:
                self.deliveries.presence.leave_all(out)

    def _deliver(
        self, work: Work, out: _Outgoing, followers: dict[str, asyncio.Task[None]]
    ) -> bool:
        """Handle a delivery-extension request; False for anything else (the worker's)."""
        deliveries = self.deliveries
        assert deliveries is not None
        match work:
            case HelloRequest(accept, device_id, device_name):
                out.accepts, out.device_id, out.device_name = accept, device_id, device_name
            case ApproveRequest(session_id, approval_id, decision):
                refused = deliveries.approvals_answer(
                    session_id, approval_id, decision, out.device_id
                )
                if refused is not None:
                    out.later(error_frame(refused, f"approval {approval_id}"))
            case ResumeRequest(session_id, after):
                self._follow(out, followers, session_id, after, resumed=True)
            case StopRequest(session_id, client_id):
                if not deliveries.stop(session_id, client_id):
                    log.info("stop for %s: no reply running", session_id)
            case ChatRequest(client_id=str(client_id)) as chat:
                if chat.session_id not in followers:
                    after = deliveries.last_seq(chat.session_id)
                    self._follow(out, followers, chat.session_id, after, resumed=False)
                try:
                    duplicate = deliveries.take(chat, self.agent, out.device_name)
                except Exception as exc:  # storage, or a bug: say so, keep the socket
                    if not isinstance(exc, StoreError):
                        log.exception("could not take a message on the %s socket", self.agent)
                    duplicate = {
                        **error_frame("The message was not accepted", str(exc) or repr(exc)),
                        "reply_to": client_id,
                    }
                if duplicate is not None:
                    out.later(duplicate)
            case _:
                return False
        return True

    def _follow(
        self,
        out: _Outgoing,
        followers: dict[str, asyncio.Task[None]],
        session_id: str,
        after: int,
        *,
        resumed: bool,
    ) -> None:
        assert self.deliveries is not None
        # a client ahead of this journal saw another database: it gets everything from here
        after = min(after, self.deliveries.last_seq(session_id))
        previous = followers.pop(session_id, None)
        if previous is not None:
            previous.cancel()
        follower = asyncio.create_task(
            _until_gone(
                self.deliveries.follow(
                    session_id,
                    after,
                    out.send,
                    resumed=resumed,
                    answers_approvals="approvals" in out.accepts,
                    device=(out, out.device_id, out.device_name) if "sync" in out.accepts else None,
                )
            )
        )
        followers[session_id] = follower
        follower.add_done_callback(lambda task: self._worker_ended(out.ws, task))

    def _classify(self, msg: WSMessage) -> Work | None:
        """What a frame asks for, decided as it is read: a chat turn, an error frame to send, or
        nothing (a config frame, empty content). Never raises."""
        if msg.type != WSMsgType.TEXT:
            return error_frame("Binary frames are not supported", "send JSON text")
        try:
            return parse_client_frame(msg.data, self.agent, self.deliveries is not None)
        except FrameError as exc:
            return exc.frame()
        except Exception:
            log.exception("could not read a frame on the %s socket", self.agent)
            return error_frame("Internal server error", "the frame could not be read")

    def _worker_ended(self, ws: web.WebSocketResponse, task: asyncio.Task[None]) -> None:
        """The worker (or a follower) ends only with its socket; if a bug ended it, the socket
        must not stay open and silent: it is closed with 1011 so the client reconnects."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("the %s socket's worker failed", self.agent, exc_info=task.exception())
        if not ws.closed:
            asyncio.get_running_loop().create_task(
                ws.close(code=1011, message=b"internal error: reconnect")
            )

    async def _work(self, out: _Outgoing, queue: asyncio.Queue[Work]) -> None:
        send = out.send
        with contextlib.suppress(ClientGone):
            while True:
                work = await queue.get()
                if not isinstance(work, ChatRequest):
                    assert isinstance(work, dict)
                    await send(work)
                    continue
                if self.deliveries is not None and self.deliveries.sync:  # every device's inbox
                    await self._relayed(work, out)
                    continue
                turn = asyncio.create_task(self.runner.run(work, self.agent, send))
                try:
                    await turn
                except asyncio.CancelledError:
                    if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                        raise  # the connection is going away
                    await send(
                        error_frame("Session closed", "the reply was stopped by a close request")
                    )
                except ClientGone:
                    raise
                except Exception:  # a bug must not leave this socket unanswered
                    log.exception("turn failed on %s socket", self.agent)
                    await send(error_frame("Internal server error", "see the server log"))

    async def _relayed(self, chat: ChatRequest, out: _Outgoing) -> None:
        """A message without an id (the iOS app's): taken into the session's inbox like any
        other, so every device sees it and its reply (docs/protocol.md §5.2); this socket gets
        the reply as it always did, in the base contract's frames."""
        deliveries = self.deliveries
        assert deliveries is not None
        try:
            client_id, after = deliveries.take_unnamed(chat, self.agent)
        except Exception as exc:  # storage, or a bug: say so, keep the socket
            if not isinstance(exc, StoreError):
                log.exception("could not take a message on the %s socket", self.agent)
            what = "Storage failed, the message was not taken"
            await out.send(error_frame(what, str(exc) or repr(exc)))
            return
        deliveries.presence.join(chat.session_id, out, chat.device_id, None)
        await deliveries.relay(chat.session_id, client_id, after, out.send)


async def _until_gone(work: Awaitable[None]) -> None:
    with contextlib.suppress(ClientGone):
        await work


class _Outgoing:
    """One socket's sending side: the worker and the followers take turns, one frame at a time,
    through the fault injector."""

    def __init__(self, ws: web.WebSocketResponse, frozen: asyncio.Event, faults: Faults) -> None:
        self.ws = ws
        self.frozen = frozen
        self._lock = asyncio.Lock()
        self._later: set[asyncio.Task[None]] = set()
        self._faulty = faults.wrap(self._send, self._close)
        self.accepts: frozenset[str] = frozenset()
        """The features this socket asked for (`hello`): it gets no other feature's frames."""
        self.device_id = "unknown"
        self.device_name: str | None = None
        self.workdir: str | None = None
        """The directory this socket's config frame chose, for its chats."""

    async def send(self, frame: dict[str, Any]) -> None:
        """Send a frame as this socket may have it: a numbered frame of a feature it did not
        ask for goes as a `skip` (its numbering has no gap); an unnumbered one not at all."""
        kind = frame.get("type")
        wanted = (
            "activity"
            if kind in ACTIVITY_FRAMES
            else "approvals"
            if kind in APPROVAL_FRAMES
            else "sync"
            if kind in SYNC_FRAMES
            else None
        )
        if wanted is not None and wanted not in self.accepts:
            seq = frame.get("seq")
            if not isinstance(seq, int):
                return
            frame = skip_frame(seq, frame.get("reply_to"))
        await self._faulty(frame)

    async def _send(self, frame: dict[str, Any]) -> None:
        """Raises ClientGone when the peer is no longer there."""
        async with self._lock:
            if self.frozen.is_set():
                await asyncio.Future()  # a lingering shutdown: never sent
            if self.ws.closed:
                raise ClientGone
            try:
                await self.ws.send_json(frame)
            except ConnectionError as exc:
                raise ClientGone from exc

    async def _close(self, code: int) -> None:
        await self.ws.close(code=code, message=b"fault injected: connection dropped")

    def later(self, frame: dict[str, Any]) -> None:
        """Send from the reading side without waiting for it."""
        task = asyncio.create_task(self.send(frame))
        self._later.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._later.discard(task)
        if not task.cancelled() and not isinstance(task.exception(), (ClientGone, type(None))):
            log.error("could not send a frame", exc_info=task.exception())
