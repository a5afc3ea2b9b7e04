"""BridgeHub as an agent: the relay the reference server runs answers with one payload, so its
whole answer is one text, with no activity to show (the turn streams it in chunks, as the
reference server does)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from mock_backend.agents.base import AgentTurn, Ask
from mock_backend.agents.events import AgentEvent, AgentFailed, TextDelta
from mock_backend.bridgehub.protocol import BridgeHub, BridgeHubError


class BridgeHubAgent:
    name = "bridgehub"

    def __init__(self, bridgehub: BridgeHub) -> None:
        self.bridgehub = bridgehub

    async def events(self, turn: AgentTurn, ask: Ask) -> AsyncGenerator[AgentEvent, None]:
        try:
            answer = await self.bridgehub.ask(turn.context["request"])
        except BridgeHubError as exc:
            raise AgentFailed(str(exc)) from exc
        yield TextDelta(answer)

    async def close(self, session_id: str) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return self.bridgehub.health()
