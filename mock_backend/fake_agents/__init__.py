"""Stand-ins for Claude Code and Codex that play their documented formats (stream-json with its
control protocol; `codex exec --json`), for the adapters' tests and `builderos check`: no real
CLI, no network. `python -m mock_backend.fake_agents.claude` (or `.codex`); a scenario is picked
by FAKE_AGENT_SCENARIO or `scenario:NAME` in the prompt. Standard library only."""
