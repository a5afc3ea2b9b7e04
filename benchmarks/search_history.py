"""Searching this machine's history (run: python benchmarks/search_history.py [--messages N]).

The client's store holds N messages (default 10,000) in 20 sessions, written as chats write
them; each query is timed from `ChatStore.search()` call to results (target: under 50 ms for
10,000 messages). Also: what the full-text index adds to saving a message, and to opening a
store made before it existed (the one-time indexing). And find in one tab (ctrl+f) whose
session holds all N messages: the store's scan plus counting every occurrence, per keystroke
(same target).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from tui.model.find import Find
from tui.store import ChatStore, StoredMessage, TabRow

WORDS = (
    "agent reply bridge storage buffer stream relay history token message tab latency session "
    "chunk terminal context frame capsule device render socket backend client python function "
    "test parser pelican refactor deploy database index query migration schema widget screen"
).split()
QUERIES = ["pelican", "parser refactor", "sock", "migration schema index", "zebra", "the code"]


def text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 120)))


def fill(store: ChatStore, count: int) -> None:
    rng = random.Random(7)
    for session in range(20):
        sid = f"BENCH-claude-{session}"
        store.add_tab(
            TabRow(f"t{session}", session, "claude", f"Tab {session}", sid, ""), "2026", "x"
        )
    for n in range(count):
        role = "user" if n % 2 == 0 else "assistant"
        message = StoredMessage(f"m{n}", role, text(rng), "complete", "2026-11-22T10:00:00")
        store.save(f"BENCH-claude-{n % 20}", message)


def timed(call: object, repeat: int = 20) -> list[float]:
    assert callable(call)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = ChatStore(Path(tmp) / "history.db")
        fill(store, args.messages)
        print(f"search over {args.messages:,} messages (20 sessions), 20 runs each")
        worst = 0.0
        for query in QUERIES:
            times = sorted(timed(lambda q=query: store.search(q, 50)))
            hits = len(store.search(query, 50))
            worst = max(worst, times[-1])
            print(
                f"  {query!r:28} {hits:3} results: median {statistics.median(times):5.2f} ms, "
                f"max {times[-1]:5.2f} ms"
            )
        print(f"  slowest query {worst:.2f} ms (target < 50 ms)")
        rng = random.Random(3)
        save = timed(
            lambda: store.save(
                "BENCH-claude-0",
                StoredMessage(f"new{rng.random()}", "user", text(rng), "complete", "2026"),
            ),
            200,
        )
        print(f"save one message, indexed: median {statistics.median(save):.3f} ms")
        store.close()
        # a store from before the index: what the one-time indexing at first open costs
        path = Path(tmp) / "history.db"
        with sqlite3.connect(path) as db:
            db.executescript(
                "DROP TRIGGER messages_fts_insert; DROP TRIGGER messages_fts_delete;"
                " DROP TRIGGER messages_fts_update; DROP TABLE messages_fts;"
                " PRAGMA user_version = 2;"
            )
        started = time.perf_counter()
        ChatStore(path).close()
        print(f"first open of a schema-2 store, indexing it: {time.perf_counter() - started:.2f} s")
        find_in_one_tab(Path(tmp) / "one-tab.db", args.messages)


def find_in_one_tab(path: Path, count: int) -> None:
    store = ChatStore(path)
    rng = random.Random(5)
    sid = "BENCH-claude-one"
    for n in range(count):
        role = "user" if n % 2 == 0 else "assistant"
        store.save(sid, StoredMessage(f"m{n}", role, text(rng), "complete", "2026"))
    print(f"find in one tab of {count:,} messages (ctrl+f: every occurrence), 20 runs each")
    worst = 0.0
    for term in ["pelican", "parser refactor", "Sock", "zebra", "e", "été"]:
        times = sorted(timed(lambda t=term: Find(t, store.occurrences(sid, t))))
        found = Find(term, store.occurrences(sid, term))
        worst = max(worst, times[-1])
        print(
            f"  {term!r:20} {found.total:7,} matches: median "
            f"{statistics.median(times):6.2f} ms, max {times[-1]:6.2f} ms"
        )
    print(f"  slowest {worst:.2f} ms (no target set; run once typing settles for 0.1 s)")
    store.close()


if __name__ == "__main__":
    main()
