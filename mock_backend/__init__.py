"""A bundled BuilderOS v2 backend: the server contract of CONTRACT.md and BridgeHub streaming."""

from mock_backend.config import MockConfig
from mock_backend.server import MockBackend, StartError

__all__ = ["MockBackend", "MockConfig", "StartError"]
