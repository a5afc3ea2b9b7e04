"""Slow clients and exhausted file descriptors must not lock the server up.

- aiohttp never times out a request whose head (request line and headers) trickles in: 300
  such connections held the server's file descriptors for as long as they liked, and real
  clients and /api/health were locked out. `HeadDeadline` wraps each connection's protocol and
  closes it when a request head is not complete within `limit` seconds of its first byte (of the
  connection's start, for the first one). Bodies (Content-Length) are skipped without a limit;
  after a WebSocket upgrade or a chunked body the connection is no longer watched.
- When the process ran out of file descriptors, asyncio's server logged a traceback for every
  failed accept (~150 MB of log in 23 s) and new clients hung in the backlog. `Listener` accepts
  connections itself: it refuses new ones at once with a spare descriptor, logs one line per
  interval, and keeps serving the open ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import re
import socket
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
"""Past this a head is aiohttp's to refuse (it limits lines to 8,190 bytes); not watched."""
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)")


class EveryInterval:
    """Counts events and logs at most one line per interval, with the count."""

    def __init__(self, what: str, interval: float = 10.0) -> None:
        self.what = what
        self.interval = interval
        self._count = 0
        self._last = -interval

    def note(self, detail: str = "") -> None:
        self._count += 1
        now = time.monotonic()
        if now - self._last >= self.interval:
            log.warning(
                "%s: %d in the last %.0f s%s",
                self.what,
                self._count,
                self.interval,
                f" ({detail})" if detail else "",
            )
            self._count, self._last = 0, now


class HeadDeadline(asyncio.Protocol):
    """aiohttp's protocol for one connection, with a deadline on every request head."""

    def __init__(self, inner: asyncio.Protocol, limit: float, timeouts: EveryInterval) -> None:
        self.inner = inner
        self.limit = limit
        self.timeouts = timeouts
        self.transport: asyncio.Transport | None = None
        self._state = "head"  # "head", "body" (bytes left in `_remaining`) or "open"
        self._head = bytearray()
        self._remaining = 0
        self._timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol, delegated ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._arm()  # a connection that sends nothing at all is timed out too
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._watch(data)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # the deadline -------------------------------------------------------------------------

    def _watch(self, data: bytes) -> None:
        at = 0
        while at < len(data) and self._state != "open":
            if self._state == "body":
                taken = min(self._remaining, len(data) - at)
                self._remaining -= taken
                at += taken
                if self._remaining == 0:
                    self._state = "head"
                continue
            if self._timer is None:
                self._arm()  # the first byte of a new head
            before = len(self._head)
            self._head += data[at:]
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > MAX_HEAD:
                    self._stop_watching()
                return
            at += end + 4 - before
            head, self._head = bytes(self._head[:end]), bytearray()
            self._disarm()
            self._after(head.lower())

    def _after(self, head: bytes) -> None:
        if b"\r\nupgrade:" in head or b"\r\ntransfer-encoding:" in head:
            self._stop_watching()  # a WebSocket lives long; chunked bodies are not counted
            return
        length = _LENGTH.search(head)
        self._remaining = int(length.group(1)) if length else 0
        self._state = "body" if self._remaining else "head"

    def _stop_watching(self) -> None:
        self._state = "open"
        self._head = bytearray()
        self._disarm()

    def _arm(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.limit, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self.transport is not None and not self.transport.is_closing():
            peer = self.transport.get_extra_info("peername")
            self.timeouts.note(f"last from {peer[0] if peer else 'unknown'}")
            self.transport.close()


class GuardedRunner(web.AppRunner):
    """An AppRunner whose sites listen with `HeadDeadline`-wrapped protocols."""

    def __init__(self, app: web.Application, *, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.head_timeout = head_timeout
        self.timeouts = EveryInterval(
            f"closed connections whose request head did not arrive in {head_timeout:g} s"
        )

    @property
    def server(self) -> Callable[[], asyncio.Protocol] | None:  # type: ignore[override]
        inner = super().server
        if inner is None:
            return None
        return lambda: HeadDeadline(inner(), self.head_timeout, self.timeouts)


def _spare() -> int | None:
    try:
        return os.open(os.devnull, os.O_RDONLY)
    except OSError:
        return None


class Listener:
    """Accepts the server's connections itself, so that running out of file descriptors
    refuses new clients at once instead of leaving them waiting in the backlog.

    One spare descriptor is kept open. When accepting fails for want of descriptors, the spare
    is released, the waiting connection accepted and closed straight away (the client sees the
    connection end, not a hang), and the spare taken back. Open connections are served all the
    while; refusals are logged one line per interval.
    """

    def __init__(self, sock: socket.socket, factory: Callable[[], asyncio.Protocol]) -> None:
        self.sock = sock
        self.factory = factory
        self.refusals = EveryInterval(
            "out of file descriptors: new connections refused at once", 10.0
        )
        self._spare: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self.sock.setblocking(False)
        self._spare = _spare()
        self._task = asyncio.get_running_loop().create_task(self._serve(), name="listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        for waiting in [task, *self._pending]:
            if waiting is not None:
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiting
        self.sock.close()
        if self._spare is not None:
            os.close(self._spare)
            self._spare = None

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(self.sock)
            except OSError as exc:
                if exc.errno not in (errno.EMFILE, errno.ENFILE):
                    log.warning("accepting a connection failed: %s", exc)
                    await asyncio.sleep(0.1)
                    continue
                refused = self._refuse_one(exc)
                await asyncio.sleep(0 if refused else 0.1)
                continue
            task = loop.create_task(self._connect(conn))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await asyncio.get_running_loop().connect_accepted_socket(self.factory, conn)
        except OSError:
            conn.close()

    def _refuse_one(self, exc: OSError) -> bool:
        """Use the spare descriptor to accept one waiting connection and close it."""
        self.refusals.note(exc.strerror or str(exc))
        if self._spare is not None:
            os.close(self._spare)
            self._spare = None
        try:
            conn, _ = self.sock.accept()
        except OSError:
            accepted = False
        else:
            conn.close()  # first: it holds the descriptor the spare had
            accepted = True
        self._spare = _spare()
        return accepted
