"""A bundled BuilderOS v2 backend: the server side of docs/protocol.md §1 (BridgeHub
streaming included) and §2, with the fault injection of §3.

`MockBackend` and `StartError` are loaded when first asked for: the server brings aiohttp,
which a `builderos` command that runs no backend should not pay for at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_backend.config import MockConfig

if TYPE_CHECKING:
    from mock_backend.server import MockBackend, StartError

__all__ = ["MockBackend", "MockConfig", "StartError"]


def __getattr__(name: str) -> Any:
    if name in ("MockBackend", "StartError"):
        from mock_backend import server

        return getattr(server, name)
    raise AttributeError(f"module 'mock_backend' has no attribute {name!r}")
