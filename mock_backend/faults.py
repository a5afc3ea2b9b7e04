"""Faults the mock can be told to inject, to prove a client survives a bad network and a bad
server (`builderos mock --fault NAME=VALUE`, or `POST /api/admin/faults` with the API token).

Each fault is documented in docs/protocol.md ("Fault injection"). Socket faults act on the
frames a socket sends; `stall` acts on the reply being produced; `refuse_for` on new sockets;
`linger_after_sigterm` on shutdown (the CLI's). `times` bounds how often the plan's faults fire
(then the plan clears itself); `random` makes each reply frame fail with that probability in
one of the socket ways, from a seeded generator, for soak runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, fields
from typing import Any

SendFrame = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
REPLY_FRAMES = ("message", "complete", "error", "stopped", "interrupted")
RANDOM_KINDS = ("drop", "duplicate", "reorder", "delay_ack", "drop_ack", "stall")


class FaultError(ValueError):
    """A fault that does not exist, or a value it cannot take."""


@dataclass(frozen=True)
class FaultPlan:
    drop_after_chunks: int | None = None
    """Close a socket (with `close_code`) once it has sent this many reply chunks."""
    close_code: int = 1011
    stall: float = 0.0
    """Seconds a reply pauses after its first chunk."""
    ack_delay: float = 0.0
    """Seconds an acknowledgement is held before it is sent."""
    drop_ack: bool = False
    """Acknowledgements are not sent live (resume still replays them)."""
    duplicate_frame: bool = False
    """Each reply chunk is sent twice."""
    reorder_frames: bool = False
    """Each reply chunk is held and sent after the frame that follows it."""
    refuse_for: float = 0.0
    """Seconds from now during which new sockets are refused (HTTP 503)."""
    linger_after_sigterm: float = 0.0
    """On SIGTERM, keep sockets open this many seconds, reading and answering nothing (as the
    reference server does for ~36 s), before stopping."""
    random: float = 0.0
    """Probability that a reply frame brings a random fault (see RANDOM_KINDS)."""
    seed: int = 0
    times: int | None = None
    """How many faults fire before the plan clears itself (None: no limit)."""

    @classmethod
    def parse(cls, items: dict[str, Any]) -> FaultPlan:
        """From `name=value` pairs or a JSON object; FaultError says what is wrong."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, raw in items.items():
            key = name.replace("-", "_")
            if key not in known:
                raise FaultError(f"unknown fault {name!r} (known: {', '.join(known)})")
            values[key] = _convert(key, known[key].type, raw)
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        default = FaultPlan()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


def _convert(name: str, kind: Any, raw: Any) -> Any:
    text = str(raw).strip().lower()
    try:
        if "bool" in str(kind):
            if isinstance(raw, bool):
                return raw
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if "int" in str(kind):
            if text in ("none", "") and "None" in str(kind):
                return None
            value: float = int(text)
        else:
            value = float(text)
    except ValueError:
        raise FaultError(f"{name}: {raw!r} is not a valid value") from None
    if value < 0:
        raise FaultError(f"{name}: must not be negative")
    return value


@dataclass
class Faults:
    """The plan in force and what it has done (the harness reads `fired`)."""

    plan: FaultPlan = field(default_factory=FaultPlan)
    fired: dict[str, int] = field(default_factory=dict)
    _refuse_until: float = 0.0
    _rng: random.Random = field(default_factory=random.Random)

    def set(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._rng = random.Random(plan.seed)
        self._refuse_until = time.monotonic() + plan.refuse_for if plan.refuse_for else 0.0

    def clear(self) -> None:
        self.set(FaultPlan())

    @property
    def active(self) -> bool:
        return self.plan != FaultPlan()

    def report(self) -> dict[str, Any]:
        return {"plan": self.plan.describe(), "fired": dict(self.fired)}

    def _fire(self, kind: str) -> None:
        self.fired[kind] = self.fired.get(kind, 0) + 1
        if self.plan.times is not None:
            left = self.plan.times - 1
            self.plan = dataclasses.replace(self.plan, times=left) if left > 0 else FaultPlan()

    def _random(self) -> str | None:
        if self.plan.random and self._rng.random() < self.plan.random:
            return self._rng.choice(RANDOM_KINDS)
        return None

    # the hooks ----------------------------------------------------------------------------------

    def refusing(self) -> bool:
        if self._refuse_until and time.monotonic() < self._refuse_until:
            self._fire("refuse")
            return True
        return False

    async def before_chunk(self, index: int) -> None:
        """Called by a reply before each chunk after the first."""
        if index == 1 and self.plan.stall:
            self._fire("stall")
            await asyncio.sleep(self.plan.stall)

    def wrap(self, send: SendFrame, close: Callable[[int], Awaitable[None]]) -> SendFrame:
        """One socket's send, with the socket faults of the plan in force at each frame."""
        sent_chunks = 0
        held: list[dict[str, Any]] = []

        async def faulty(frame: dict[str, Any]) -> None:
            nonlocal sent_chunks
            if not self.active:
                await _flush(held, send)
                return await send(frame)
            plan, kind = self.plan, frame.get("type")
            chance = self._random() if kind in REPLY_FRAMES or kind == "ack" else None
            if kind == "ack":
                if plan.drop_ack or chance == "drop_ack":
                    self._fire("drop_ack")
                    return None
                if plan.ack_delay or chance == "delay_ack":
                    self._fire("delay_ack")
                    await asyncio.sleep(plan.ack_delay or 1.0)
                return await send(frame)
            if kind == "message":
                sent_chunks += 1
                limit = plan.drop_after_chunks
                if (limit is not None and sent_chunks > limit) or chance == "drop":
                    self._fire("drop")
                    await close(plan.close_code)
                    return None
                if (plan.reorder_frames or chance == "reorder") and not held:
                    self._fire("reorder")
                    held.append(frame)
                    return None
                if plan.duplicate_frame or chance == "duplicate":
                    self._fire("duplicate")
                    await send(frame)
                if chance == "stall":
                    self._fire("stall")
                    await asyncio.sleep(1.0)
            await send(frame)
            await _flush(held, send)
            return None

        return faulty


async def _flush(held: list[dict[str, Any]], send: SendFrame) -> None:
    while held:
        await send(held.pop(0))
