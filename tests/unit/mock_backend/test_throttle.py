"""Repeated wrong tokens from one address are answered slower and slower; nothing else is."""

from __future__ import annotations

from mock_backend.throttle import FailureThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_few_typos_are_free_then_each_failure_waits_twice_as_long_up_to_a_cap() -> None:
    throttle = FailureThrottle(free=3, base=0.5, cap=4.0, clock=Clock())
    waits = [throttle.failed("10.0.0.1") for _ in range(9)]
    assert waits == [0, 0, 0, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert throttle.failed("10.0.0.2") == 0, "another address is not slowed"


def test_success_and_quiet_time_forget_the_failures() -> None:
    clock = Clock()
    throttle = FailureThrottle(free=1, base=1.0, forget_after=60, clock=clock)
    throttle.failed("a")
    assert throttle.failed("a") == 1.0
    throttle.succeeded("a")
    assert throttle.failures("a") == 0 and throttle.failed("a") == 0
    throttle.failed("a")
    clock.now += 61
    assert throttle.failed("a") == 0, "forgotten after a quiet minute"


def test_memory_stays_bounded() -> None:
    clock = Clock()
    throttle = FailureThrottle(max_addresses=100, clock=clock)
    for n in range(1000):
        clock.now += 0.001
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle._records) <= 100
