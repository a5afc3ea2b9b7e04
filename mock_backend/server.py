"""The mock backend as an object: start it in-process on any port, learn the port, stop it.

    async with MockBackend(MockConfig(port=0, token="t", db_path=...)) as backend:
        print(backend.url)

The CLI (`builderos mock`), the terminal client's demo mode and the harness all use this.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
from types import TracebackType
from typing import Any

from aiohttp import web

from mock_backend.agents.choice import agent_for
from mock_backend.agents.relay import BridgeHubAgent
from mock_backend.agents.simulated import SimulatedAgent
from mock_backend.approvals import Approvals, Policy
from mock_backend.bridgehub import BridgeHub
from mock_backend.config import MockConfig
from mock_backend.delivery import Deliveries
from mock_backend.faults import Faults
from mock_backend.hosts import ANY_ADDRESS, HostPolicy
from mock_backend.http import Routes, host_guard, json_errors
from mock_backend.sessions import SessionRegistry
from mock_backend.slow_clients import GuardedRunner, Listener
from mock_backend.store import SessionStore
from mock_backend.throttle import FailureThrottle
from mock_backend.turns import TurnRunner
from mock_backend.uploads import UploadDir
from mock_backend.wire import AGENTS, Agent
from mock_backend.ws import ChatSocket

log = logging.getLogger(__name__)

ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'


def _policy(name: str) -> Policy:
    return "allow" if name == "allow" else "deny" if name == "deny" else "ask"


class StartError(Exception):
    """The backend could not start (port taken, database unreadable, ...): say why, no traceback."""


class MockBackend:
    def __init__(self, config: MockConfig, *, sock: socket.socket | None = None) -> None:
        """`sock`: serve on this bound socket instead of `config.host`/`config.port` (a test
        that held a port closed can open it, with no window for anyone else to take it)."""
        self.config = config
        self._sock = sock
        self._host = sock.getsockname()[0] if sock is not None else config.host
        self.uploads = UploadDir(config.resolved_uploads_dir())
        self.agent = agent_for(config, self.uploads)
        self.approvals = Approvals(
            policy=_policy(config.approvals), timeout=config.approval_timeout
        )
        self.throttle = FailureThrottle(base=config.failure_delay)
        self.faults = Faults()
        self.faults.set(config.faults)
        self._store: SessionStore | None = None
        self._registry: SessionRegistry | None = None
        self._deliveries: Deliveries | None = None
        self._runner: web.AppRunner | None = None
        self._listener: Listener | None = None
        self.sockets: dict[Agent, ChatSocket] = {}
        self.port: int = 0

    # properties -----------------------------------------------------------------------------

    @property
    def registry(self) -> SessionRegistry:
        if self._registry is None:
            raise RuntimeError("the mock backend is not running")
        return self._registry

    @property
    def url(self) -> str:
        host = self._host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def public_url(self) -> str:
        """Where clients reach the server: its address, or this machine's name when it listens
        on every address. Upload answers use it (never the request's Host header)."""
        if self._host in ANY_ADDRESS:
            return f"http://{socket.gethostname()}:{self.port}"
        return self.url

    def ws_url(self, agent: Agent) -> str:
        return self.url.replace("http://", "ws://", 1) + f"/api/{agent}/ws"

    @property
    def bridgehub(self) -> BridgeHub | None:
        """The BridgeHub behind the agent, when there is one (tests replace its answers)."""
        agent = self.agent
        relay = agent.text if isinstance(agent, SimulatedAgent) else agent
        return relay.bridgehub if isinstance(relay, BridgeHubAgent) else None

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def token(self) -> str:
        return self.config.token

    def token_ok(self, candidate: str) -> bool:
        """Constant-time. A header that is not UTF-8 (aiohttp hands its bytes over as
        surrogate escapes) is simply a wrong token."""
        given = candidate.encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self.config.token.encode("utf-8", "surrogateescape"))

    # life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self.running:
            return
        try:
            claude_md = self.config.claude_md()
        except OSError as exc:
            raise StartError(f"cannot read the CLAUDE.md file: {exc}") from None
        try:
            store = SessionStore(self.config.db_path)
        except Exception as exc:
            raise StartError(str(exc)) from None
        registry = SessionRegistry(
            store,
            claude_md=claude_md,
            retention_days=self.config.retention_days,
            active_days=self.config.active_days,
        )
        try:
            registry.load()
        except Exception as exc:
            store.close()
            raise StartError(str(exc)) from None
        turns = TurnRunner(
            registry,
            self.agent,
            approvals=self.approvals if self.config.delivery else None,
            chunk_size=self.config.chunk_size,
            chunk_delay=self.config.chunk_delay,
            capsule=self.config.capsule,
            workdir=self.config.workdir,
            local_path=self.uploads.local,
            before_chunk=self.faults.before_chunk,
        )
        deliveries = (
            Deliveries(registry, turns, sync=self.config.sync) if self.config.delivery else None
        )
        sync = deliveries is not None and deliveries.sync
        self.sockets = {
            agent: ChatSocket(
                agent,
                turns,
                self.token_ok,
                self.throttle,
                deliveries=deliveries,
                faults=self.faults,
                auth_timeout=self.config.auth_timeout,
                heartbeat=self.config.heartbeat,
                receive_timeout=self.config.receive_timeout,
            )
            for agent in AGENTS
        }
        policy = HostPolicy(self.config.host, frozenset(self.config.allowed_hosts))
        app = web.Application(middlewares=[host_guard(policy), json_errors])
        Routes(
            registry=registry,
            uploads=self.uploads,
            token_ok=self.token_ok,
            connections=lambda: {agent: s.connections for agent, s in self.sockets.items()},
            bridgehub_health=lambda: {
                **self.agent.health(),
                "agent": self.agent.name,
                "approvals": self.approvals.health(),
            },
            storage_health=lambda: {"ok": not store.problems, "problems": list(store.problems)},
            throttle=self.throttle,
            public_url=lambda: self.public_url,
            reference_close=self.config.reference_close,
            delivery=self.config.delivery,
            faults=self.faults,
            live=self._live if sync else None,
            closed=deliveries.closed if sync and deliveries is not None else None,
        ).install(app)
        for agent, endpoint in self.sockets.items():
            app.router.add_get(f"/api/{agent}/ws", endpoint.handle)
        app.on_shutdown.append(self._close_sockets)
        # Request line and status only: headers (and so tokens) are never logged.
        runner = GuardedRunner(
            app,
            head_timeout=self.config.head_timeout,
            access_log_format=ACCESS_LOG_FORMAT,
            shutdown_timeout=2.0,
        )
        await runner.setup()
        try:
            listening = self._sock or socket.create_server(
                (self.config.host, self.config.port),
                family=socket.AF_INET6 if ":" in self.config.host else socket.AF_INET,
                backlog=128,
            )
            listening.listen(128)
        except OSError as exc:
            await runner.cleanup()
            store.close()
            raise StartError(
                f"cannot listen on {self.config.host}:{self.config.port}: {exc.strerror or exc}"
            ) from None
        factory = runner.server
        assert factory is not None
        self._listener = Listener(listening, factory)
        self._listener.start()
        self._store, self._registry, self._runner = store, registry, runner
        self._deliveries = deliveries
        if deliveries is not None:
            deliveries.recover()
        self.port = listening.getsockname()[1]
        log.info("mock backend listening on %s", self.url)

    async def stop(self, *, linger: float = 0.0) -> None:
        """Stop serving. `linger`: first hold every socket open and silent this many seconds,
        accepting nothing new (the reference server's slow graceful shutdown)."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        if linger:
            log.info("holding sockets open for %.0f s before stopping", linger)
            for chat_socket in self.sockets.values():
                chat_socket.freeze()
            await asyncio.sleep(linger)
        if self._deliveries is not None:
            await self._deliveries.close()
            self._deliveries = None
        await self.agent.shutdown()
        await runner.cleanup()
        if self._store is not None:
            self._store.close()
        self._store = self._registry = None
        log.info("mock backend stopped")

    async def _close_sockets(self, app: web.Application) -> None:
        open_sockets = [ws for socket in self.sockets.values() for ws in list(socket.sockets)]
        await asyncio.gather(
            *(ws.close(code=1001, message=b"server shutting down") for ws in open_sockets),
            return_exceptions=True,
        )

    def _live(self, session_id: str) -> dict[str, Any]:
        """A session as it is now (sync): replying, and the devices on it."""
        deliveries = self._deliveries
        if deliveries is None:
            return {}
        return {
            "busy": session_id in deliveries.working(),
            "devices": deliveries.presence.devices(session_id),
        }

    def idle(self) -> bool:
        """Nobody is here and no agent works: no socket is open, and each turn still running
        waits on a question nobody is there to answer. (The demo's backend exits once idle a
        while: mock_backend.detached.)"""
        if any(endpoint.connections for endpoint in self.sockets.values()):
            return False
        deliveries = self._deliveries
        working = deliveries.working() if deliveries is not None else []
        return all(self.approvals.asking(session_id) for session_id in working)

    def stored_session_count(self) -> int:
        assert self._store is not None
        return self._store.count_sessions()

    async def __aenter__(self) -> MockBackend:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
