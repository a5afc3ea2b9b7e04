"""BridgeHub, the relay behind the server: its CLI protocol, a simulation, a subprocess adapter."""

from mock_backend.bridgehub.command import CommandBridgeHub
from mock_backend.bridgehub.protocol import BridgeHub, BridgeHubError, build_request
from mock_backend.bridgehub.simulated import SimulatedBridgeHub

__all__ = ["BridgeHub", "BridgeHubError", "CommandBridgeHub", "SimulatedBridgeHub", "build_request"]
