"""Which Host headers the mock answers: loopback names when bound to loopback (DNS rebinding),
the allow-list and the address itself on a LAN bind."""

from __future__ import annotations

import pytest

from mock_backend.hosts import HostPolicy


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        ("127.0.0.1:8080", True),
        ("localhost:8080", True),
        ("LOCALHOST", True),
        ("[::1]:8080", True),
        ("127.1.2.3", True),
        ("evil.example", False),
        ("evil.example:8080", False),
        ("127.0.0.1.evil.example", False),
        ("", False),
        (None, False),
        ("[not-an-ip", False),
        ("x" * 1000, False),
    ],
)
def test_bound_to_loopback_only_loopback_names(header: str | None, allowed: bool) -> None:
    assert HostPolicy("127.0.0.1").allows(header) is allowed


def test_a_lan_bind_answers_its_address_and_the_allow_list() -> None:
    policy = HostPolicy("192.168.1.20", frozenset({"my-mac.local"}))
    assert policy.allows("192.168.1.20:8080") and policy.allows("my-mac.local:8080")
    assert not policy.allows("localhost") and not policy.allows("evil.example")
    assert policy.describe() == ["192.168.1.20", "my-mac.local"]


def test_every_address_with_no_list_answers_any_name_and_with_a_list_only_those() -> None:
    assert HostPolicy("0.0.0.0").allows("anything.example")
    strict = HostPolicy("0.0.0.0", frozenset({"my-mac.local"}))
    assert strict.allows("my-mac.local") and not strict.allows("anything.example")
