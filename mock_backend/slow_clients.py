"""Slow clients and exhausted file descriptors must not lock the server up.

- aiohttp never times out a request whose head (request line and headers) trickles in: 300
  such connections held the server's file descriptors for as long as they liked, and real
  clients and /api/health were locked out. `HeadDeadline` wraps each connection's protocol and
  closes it when a request head is not complete within `limit` seconds of its first byte (of the
  connection's start, for the first one). Bodies (Content-Length) are skipped without a limit;
  after a WebSocket upgrade or a chunked body the connection is no longer watched.
- When the process runs out of file descriptors, asyncio logs a traceback for every failed
  accept (~150 MB of log in 23 s). `quiet_accept_errors` turns that into one line per interval;
  asyncio already keeps serving the open connections and retries accepting a second later.
"""

from __future__ import annotations

import asyncio
import logging
import re
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


def quiet_accept_errors(
    loop: asyncio.AbstractEventLoop, interval: float = 10.0
) -> Callable[[], None]:
    """Log running out of file descriptors once per interval, in one line; other loop errors
    go where they went. Returns what restores the previous handler."""
    previous = loop.get_exception_handler()
    limiter = EveryInterval(
        "out of file descriptors, new connections wait to be accepted", interval
    )

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            limiter.note(str(context.get("exception", "")))
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    return lambda: loop.set_exception_handler(previous)
