"""Settings of the mock backend, with the reference deployment's defaults."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from platformdirs import user_data_path

from mock_backend.faults import FaultPlan


def default_db_path() -> Path:
    return user_data_path("builderos", appauthor=False) / "mock-backend" / "sessions.db"


def sample_claude_md() -> str:
    return resources.files("mock_backend").joinpath("data/CLAUDE.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class MockConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    """0 picks a free port; `MockBackend.port` tells which."""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    db_path: Path = field(default_factory=default_db_path)
    uploads_dir: Path | None = None
    """Defaults to `uploads/` beside the database."""
    claude_md_path: Path | None = None
    """Defaults to the sample CLAUDE.md shipped in the package."""
    chunk_size: int = 100
    chunk_delay: float = 0.05
    bridgehub_command: str | None = None
    """None: the built-in simulated BridgeHub."""
    agent: str = "simulated"
    """What answers: `simulated` (the simulated agent, or BridgeHub with `bridgehub_command`),
    `claude-code` or `codex` (the real CLIs, `agent_command` naming the executable)."""
    agent_command: str | None = None
    """The agent's executable (default: `claude`, `codex`)."""
    workdir: Path | None = None
    """Where a real agent works (its CLAUDE.md, the files it edits)."""
    approvals: str = "ask"
    """When the agent asks to run a tool: `ask` the clients, or `allow`/`deny` alone."""
    approval_timeout: float = 300.0
    """Seconds a connected client has to answer an approval before it counts as denied."""
    bridgehub_timeout: float = 600.0
    retention_days: float = 30
    active_days: float = 7
    capsule: str = "."
    auth_timeout: float = 10.0
    heartbeat: float = 30.0
    receive_timeout: float = 600.0
    head_timeout: float = 10.0
    """Seconds a client has to send a request's head (request line and headers) once it
    starts; slower connections are closed (they would hold file descriptors forever)."""
    failure_delay: float = 0.25
    """After five wrong tokens from one address, each further failure is answered this many
    seconds later, doubling up to 5 s (the right token is never delayed)."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names answered besides the bound address (`--allow-host`; loopback names always
    are when bound to loopback)."""
    faults: FaultPlan = field(default_factory=FaultPlan)
    """Faults to inject from the start (`--fault`); the admin endpoint changes them later."""
    sync: bool = True
    """Offer sync (docs/protocol.md Part 5) with the delivery extension; False (`--features
    no-sync`) imitates a server that has the rest but not this."""
    delivery: bool = True
    """Offer the delivery extension (docs/protocol.md); False (`--features none`) speaks only
    the reference server's protocol, for testing a client against one."""
    reference_close: bool = False
    """Answer the close endpoint as the reference server does (200 for any session, token not
    checked) instead of as the seeds promise: lets the contract suite be seen catching it."""

    def resolved_uploads_dir(self) -> Path:
        return self.uploads_dir or self.db_path.parent / "uploads"

    def claude_md(self) -> str:
        if self.claude_md_path is None:
            return sample_claude_md()
        return self.claude_md_path.read_text(encoding="utf-8")
