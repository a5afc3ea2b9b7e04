"""Which agent answers, from the settings (`builderos mock --agent`, `--bridgehub`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_backend.agents.base import AgentAdapter
from mock_backend.agents.relay import BridgeHubAgent
from mock_backend.agents.simulated import SimulatedAgent
from mock_backend.bridgehub import CommandBridgeHub, SimulatedBridgeHub
from mock_backend.bridgehub.simulated import PREVIEW_BYTES

if TYPE_CHECKING:
    from mock_backend.config import MockConfig
    from mock_backend.uploads import UploadDir

AGENT_NAMES = ("simulated", "claude-code", "codex")


def agent_for(config: MockConfig, uploads: UploadDir) -> AgentAdapter:
    """The simulated agent by default (BridgeHub when a command is given, as the reference
    server runs it), or a real CLI. The simulated one pauses between its steps as long as six
    chunks take, so its work is seen to happen (not at all with no chunk delay)."""
    if config.agent == "claude-code":
        from mock_backend.agents.claude_code import ClaudeCodeAgent

        return ClaudeCodeAgent(
            config.agent_command or "claude", workdir=config.workdir, permission=config.approvals
        )
    if config.agent == "codex":
        from mock_backend.agents.codex import CodexAgent

        return CodexAgent(config.agent_command or "codex", workdir=config.workdir)
    if config.bridgehub_command:
        return BridgeHubAgent(
            CommandBridgeHub(config.bridgehub_command, timeout=config.bridgehub_timeout)
        )
    hub = SimulatedBridgeHub(lambda url: uploads.head(url, PREVIEW_BYTES))
    return SimulatedAgent(hub, step=config.chunk_delay * 6, pace=config.chunk_delay)
