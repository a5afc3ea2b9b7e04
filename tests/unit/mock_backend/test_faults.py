"""The fault plan: parsed from `--fault NAME=VALUE` and from JSON, refused with a clear word."""

from __future__ import annotations

import pytest

from mock_backend.faults import FaultError, FaultPlan, Faults


def test_values_from_the_command_line_and_from_json() -> None:
    plan = FaultPlan.parse({"drop-after-chunks": "3", "stall": "1.5", "drop_ack": "yes"})
    assert plan == FaultPlan(drop_after_chunks=3, stall=1.5, drop_ack=True)
    assert FaultPlan.parse({"duplicate_frame": True, "times": 2}).describe() == {
        "duplicate_frame": True,
        "times": 2,
    }


@pytest.mark.parametrize(
    ("items", "why"),
    [
        ({"explode": "1"}, "unknown fault 'explode'"),
        ({"stall": "soon"}, "not a valid value"),
        ({"drop_ack": "maybe"}, "not a valid value"),
        ({"ack_delay": "-1"}, "must not be negative"),
    ],
)
def test_bad_faults_are_refused(items: dict[str, str], why: str) -> None:
    with pytest.raises(FaultError, match=why):
        FaultPlan.parse(items)


async def test_times_clears_the_plan_after_that_many_faults() -> None:
    faults = Faults()
    faults.set(FaultPlan(drop_ack=True, times=2))
    sent: list[dict[str, object]] = []

    async def send(frame: dict[str, object]) -> None:
        sent.append(frame)

    async def close(code: int) -> None:
        raise AssertionError("no drop planned")

    faulty = faults.wrap(send, close)
    for n in range(3):
        await faulty({"type": "ack", "id": f"m{n}"})
    assert [f["id"] for f in sent] == ["m2"] and faults.fired == {"drop_ack": 2}
    assert not faults.active
