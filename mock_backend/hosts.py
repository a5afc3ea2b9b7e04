"""Which Host headers the mock answers (protection against DNS rebinding).

A server on 127.0.0.1 is reachable from any web page the user opens, through a host name the
page's owner re-points at 127.0.0.1; the browser then treats the API as that page's own origin.
Checking the Host header closes that door: bound to loopback, only loopback names are answered;
bound to a LAN address, the names given with `--allow-host` (and the address itself).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})


def _name(host_header: str | None) -> str | None:
    """`Example.com:8080` → `example.com`, `[::1]:80` → `::1`; None when it is not a host."""
    if not host_header or len(host_header) > 300:
        return None
    try:
        return urlsplit("//" + host_header.strip()).hostname
    except ValueError:
        return None


def is_loopback(name: str) -> bool:
    if name.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostPolicy:
    bind: str
    """The address the server listens on."""
    allowed: frozenset[str] = field(default_factory=frozenset)
    """Extra host names (`--allow-host`), lower case."""

    def allows(self, host_header: str | None) -> bool:
        name = _name(host_header)
        if name is None:
            return False
        if name in self.allowed or name == self.bind.lower():
            return True
        if is_loopback(self.bind):
            return is_loopback(name)
        # listening on every address with no list: every name (the README says so)
        return self.bind in ANY_ADDRESS and not self.allowed

    def describe(self) -> list[str]:
        names = set(self.allowed)
        if is_loopback(self.bind):
            names |= {"localhost", "127.0.0.1", "[::1]"}
        elif self.bind not in ANY_ADDRESS:
            names.add(self.bind)
        return sorted(names)
