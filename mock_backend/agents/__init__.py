"""The agents that answer behind the mock: the simulated one (default), BridgeHub (the relay the
reference server runs), Claude Code and Codex. Each reports its work as `events.AgentEvent`s."""
