"""Cost of storing one message at history 10 and at history 10,000 (target: ratio ≤ 2).

    python benchmarks/store_append.py

Goes through `SessionRegistry.append`, the path the server takes for every turn, on a real
SQLite file in WAL mode. The reference server rewrote the whole history per message, so its
cost grew with the history; an append-only store should not care.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from mock_backend.sessions import SessionRegistry
from mock_backend.store import SessionStore

SAMPLES = 300
MESSAGE = "A typical chat message of a few dozen words. " * 6


def _fill(registry: SessionRegistry, session_id: str, count: int) -> None:
    session = registry.open(session_id, "claude", "bench-device")
    db = registry.store._db  # bulk prefill; the measured appends use the public path
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO messages(session_id, role, content, timestamp) VALUES (?, ?, ?, ?)",
        [
            (
                session_id,
                "user" if i % 2 == 0 else "assistant",
                MESSAGE,
                "2026-01-01T00:00:00+00:00",
            )
            for i in range(count)
        ],
    )
    db.execute("UPDATE sessions SET message_count = ? WHERE session_id = ?", (count, session_id))
    db.execute("COMMIT")
    session.message_count = count


def _per_append(registry: SessionRegistry, session_id: str) -> list[float]:
    session = registry.active[session_id]
    for _ in range(20):  # warm the page cache
        registry.append(session, "user", MESSAGE)
    timings = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        registry.append(session, "user", MESSAGE)
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        registry = SessionRegistry(
            SessionStore(Path(tmp) / "bench.db"), claude_md="You are Jarvis."
        )
        _fill(registry, "short", 10)
        _fill(registry, "long", 10_000)
        short = statistics.median(_per_append(registry, "short"))
        long = statistics.median(_per_append(registry, "long"))
        history_read = time.perf_counter()
        registry.history(registry.active["long"])
        history_read = time.perf_counter() - history_read
    ratio = long / short
    print(f"store one message, history 10:     {short * 1e6:8.1f} µs (median of {SAMPLES})")
    print(f"store one message, history 10,000: {long * 1e6:8.1f} µs (median of {SAMPLES})")
    print(f"ratio: {ratio:.2f} (target ≤ 2) {'OK' if ratio <= 2 else 'OVER TARGET'}")
    print(f"read the last 50 of 10,000 messages for BridgeHub: {history_read * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
