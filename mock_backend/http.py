"""The HTTP endpoints of docs/protocol.md §1.1, §2.5 (session history) and §3 (the fault
plan), and JSON answers for every error."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from mock_backend.faults import FaultError, FaultPlan, Faults
from mock_backend.hosts import HostPolicy
from mock_backend.sessions import SessionRegistry
from mock_backend.throttle import FailureThrottle
from mock_backend.uploads import (
    MAX_UPLOAD_BYTES,
    UploadDir,
    UploadTooLarge,
    base_name,
    serving_headers,
)
from mock_backend.wire import SERVER_VERSION, Agent, features, now_iso

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_DRAIN_LIMIT = 1024 * 1024 * 1024


MAX_HISTORY_PAGE = 500


def _bounded_int(text: str | None, low: int, high: int) -> int | None:
    """A query parameter that must be a whole number in [low, high]; None if absent."""
    if text is None:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{text!r} is not a whole number from {low} to {high}")
    return int(text)


def _json(http_status: int, /, **body: Any) -> web.Response:
    return web.json_response(body, status=http_status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown paths, wrong methods and crashes answer JSON, never an HTML page or a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        body: dict[str, Any] = {"ok": False, "error": exc.reason, "path": request.path}
        if isinstance(exc, web.HTTPMethodNotAllowed):
            body["allowed"] = sorted(exc.allowed_methods)
        return web.json_response(body, status=exc.status, headers=_allow(exc))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _json(500, ok=False, error="Internal server error")


def host_guard(policy: HostPolicy) -> Any:
    """Refuse a request whose Host is not one of ours: a web page on another origin that
    re-points its own name at 127.0.0.1 (DNS rebinding) could otherwise read the API."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not policy.allows(request.headers.get("Host")):
            log.warning("refused a request for host %r", request.headers.get("Host", "")[:100])
            return _json(403, ok=False, error="Host not allowed", allowed=policy.describe())
        return await handler(request)

    return guard


def _allow(exc: web.HTTPException) -> dict[str, str] | None:
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return {"Allow": ", ".join(sorted(exc.allowed_methods))}
    return None


@dataclass(frozen=True)
class Routes:
    """The routes, given exactly what they read: no handle on the whole server."""

    registry: SessionRegistry
    uploads: UploadDir
    token_ok: Callable[[str], bool]
    connections: Callable[[], dict[Agent, int]]
    """Open sockets per agent, for health."""
    bridgehub_health: Callable[[], dict[str, Any]]
    storage_health: Callable[[], dict[str, Any]]
    """`ok` and the problems found in the database at start."""
    throttle: FailureThrottle
    public_url: Callable[[], str]
    """The server's own base URL, for upload answers (never built from the request's Host)."""
    reference_close: bool = False
    delivery: bool = True
    faults: Faults | None = None
    live: Callable[[str], dict[str, Any]] | None = None
    """Sync (docs/protocol.md §5): whether a session is busy now and which devices are on it."""
    closed: Callable[[str, str], None] | None = None
    """Sync: tell a session's followers it was closed, and by which device."""

    def install(self, app: web.Application) -> None:
        app.router.add_get("/api/health", self.health)
        app.router.add_get("/api/status", self.status)
        app.router.add_get("/api/sessions", self.sessions)
        app.router.add_delete("/api/{agent:claude|codex}/session/{session_id}/close", self.close)
        app.router.add_post("/api/files/upload", self.upload)
        app.router.add_get("/uploads/{name}", self.uploaded)
        if self.delivery:
            app.router.add_get("/api/sessions/{session_id}/messages", self.messages)
        if self.faults is not None:
            app.router.add_get("/api/admin/faults", self.show_faults)
            app.router.add_post("/api/admin/faults", self.set_faults)
            app.router.add_delete("/api/admin/faults", self.clear_faults)

    async def health(self, request: web.Request) -> web.Response:
        return _json(
            200,
            status="ok",
            version=SERVER_VERSION,
            timestamp=now_iso(),
            connections=self.connections(),
            sessions=self.registry.counts(),
            bridgehub=self.bridgehub_health(),
            storage=self.storage_health(),
        )

    async def status(self, request: web.Request) -> web.Response:
        # Like the reference server, the key the app sends here is not checked.
        return _json(
            200,
            status="running",
            version=SERVER_VERSION,
            health="ok",
            timestamp=now_iso(),
            features=features(self.delivery, sync=self.live is not None),
        )

    async def sessions(self, request: web.Request) -> web.Response:
        summaries = self.registry.summaries()
        if self.live is not None:
            live = self.live
            summaries = [{**summary, **live(summary["session_id"])} for summary in summaries]
        return _json(200, total=len(summaries), sessions=summaries)

    async def messages(self, request: web.Request) -> web.Response:
        """A session's stored history, a page at a time, newest page first (delivery
        extension; token in X-API-Key): `?limit=N` (1–500, default 100), `?before=NUMBER`."""
        if not await self._authorized(request, request.headers.get("X-API-Key", "")):
            return _json(401, ok=False, error="Unauthorized")
        session_id = request.match_info["session_id"]
        try:
            limit = _bounded_int(request.query.get("limit"), 1, MAX_HISTORY_PAGE) or 100
            before = _bounded_int(request.query.get("before"), 1, 2**62)
        except ValueError as exc:
            return _json(400, ok=False, error="Invalid query", detail=str(exc))
        store = self.registry.store
        if store.get_session(session_id) is None:
            return _json(404, ok=False, error="Session not found", session_id=session_id)
        total, page = store.page_messages(session_id, before, limit)
        messages = [
            {
                "number": number,
                "role": m.role,
                "content": m.content,
                "timestamp": m.timestamp,
                "metadata": m.metadata,
            }
            for number, m in page
        ]
        older = bool(page) and store.page_messages(session_id, page[0][0], 1)[1] != []
        return _json(
            200,
            session_id=session_id,
            total=total,
            messages=messages,
            next_before=page[0][0] if older else None,
        )

    async def show_faults(self, request: web.Request) -> web.Response:
        """The fault plan in force and how often each fault fired (X-API-Key)."""
        if not await self._authorized(request, request.headers.get("X-API-Key", "")):
            return _json(401, ok=False, error="Unauthorized")
        assert self.faults is not None
        return _json(200, ok=True, **self.faults.report())

    async def set_faults(self, request: web.Request) -> web.Response:
        """Replace the fault plan with the JSON object posted (docs/protocol.md)."""
        if not await self._authorized(request, request.headers.get("X-API-Key", "")):
            return _json(401, ok=False, error="Unauthorized")
        assert self.faults is not None
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise FaultError("expected a JSON object of fault names and values")
            plan = FaultPlan.parse(body)
        except (ValueError, RecursionError) as exc:
            return _json(400, ok=False, error=str(exc)[:300])
        self.faults.set(plan)
        log.warning("faults set: %s", plan.describe())
        return _json(200, ok=True, **self.faults.report())

    async def clear_faults(self, request: web.Request) -> web.Response:
        if not await self._authorized(request, request.headers.get("X-API-Key", "")):
            return _json(401, ok=False, error="Unauthorized")
        assert self.faults is not None
        self.faults.clear()
        return _json(200, ok=True, **self.faults.report())

    async def close(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        reference = self.reference_close
        if not reference and not await self._authorized(request, token):
            return _json(401, ok=False, error="Unauthorized")
        session_id = request.match_info["session_id"]
        active, stopped = self.registry.close(session_id)
        if not active and not reference:
            return _json(404, ok=False, error="Session not found", session_id=session_id)
        if active and self.closed is not None:
            self.closed(session_id, _device_header(request.headers.get("X-Device-Id", "")))
        return _json(
            200,
            ok=True,
            session_id=session_id,
            process_killed=stopped,
            message="Session closed" + (", its running reply was stopped" if stopped else ""),
        )

    async def upload(self, request: web.Request) -> web.Response:
        if not await self._authorized(request, request.headers.get("X-API-Key", "")):
            return _json(401, ok=False, error="Unauthorized")
        if not request.content_type.startswith("multipart/"):
            return _json(400, ok=False, error="Expected multipart/form-data with a 'file' part")
        stored: tuple[str, int, str] | None = None
        kind = "unknown"
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue  # a nested multipart is not a file
                if part.name == "file" and stored is None:
                    filename = base_name(part.filename)
                    name, size = await self.uploads.save(part, filename)
                    stored = (name, size, filename)
                elif part.name == "type":
                    kind = (await part.text())[:100] or "unknown"
        except UploadTooLarge:
            await _drain(request)
            return _json(413, ok=False, error="File too large", limit=MAX_UPLOAD_BYTES)
        except (ValueError, AssertionError, HttpProcessingError) as exc:
            # no boundary, a part header over aiohttp's 8,190-byte line limit, a broken body
            log.info("malformed upload: %s", exc)
            return _json(400, ok=False, error="Malformed multipart body", detail=str(exc)[:200])
        except OSError as exc:
            log.error("upload could not be stored: %s", exc)
            return _json(507, ok=False, error=f"Could not store the file: {exc.strerror or exc}")
        if stored is None:
            return _json(400, ok=False, error="Missing 'file' part")
        name, size, filename = stored
        path = f"/uploads/{name}"
        log.info("upload stored: %s (%d bytes)", name, size)
        return _json(
            200,
            ok=True,
            url=f"{self.public_url()}{path}",
            path=path,
            filename=filename,
            size=size,
            type=kind,
        )

    async def _authorized(self, request: web.Request, token: str) -> bool:
        """The token check, with repeated failures from one address answered slower."""
        address = request.remote or "unknown"
        if self.token_ok(token):
            self.throttle.succeeded(address)
            return True
        await asyncio.sleep(self.throttle.failed(address))
        return False

    async def uploaded(self, request: web.Request) -> web.StreamResponse:
        path = self.uploads.file(request.match_info["name"])
        if path is None:
            return _json(404, ok=False, error="Not Found", path=request.path)
        return web.FileResponse(path, headers=serving_headers(path.name))


async def _drain(request: web.Request) -> None:
    """Read what the client still sends, so it gets the 413 instead of a reset connection."""
    seen = 0
    while seen < _DRAIN_LIMIT and (chunk := await request.content.read(1024 * 1024)):
        seen += len(chunk)


def _device_header(value: str) -> str:
    """Who closed a session (`X-Device-Id`, sync): a short printable id, else `unknown`."""
    value = value.strip()
    if not value or len(value) > 256 or not value.isprintable():
        return "unknown"
    return value
