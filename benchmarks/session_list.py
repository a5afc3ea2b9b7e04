"""The session browser (F4) over a backend that lists 200,000 sessions (run: python
benchmarks/session_list.py [--sessions N]).

A local aiohttp server answers `GET /api/sessions` with N sessions (default 200,000, about
40 MB of JSON). Timed, as F4 does it: `list_sessions` (the client keeps the 2,000 most recent
and counts the rest), `merge` with this machine's sessions, a `session_line` for every row, and
the dialog itself opened headless with its first filter pass; then one keystroke of filter and
the Backspace that shows every row again. Peak memory (tracemalloc) is measured on a second run
of the same fetch, merge and lines, so the first run's times are not inflated by tracing.

The baseline, measured before the caps, printed beside these as ratios: F4 took 24 s and 763 MB,
Backspace in its filter 19.6 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import tracemalloc

from aiohttp import web
from textual.app import App

from tui.client.history import list_sessions
from tui.model.session_list import merge
from tui.widgets.history_dialogs import SessionBrowser, session_line

BASELINE_F4_S = 24.0
BASELINE_F4_MB = 763.0
BASELINE_BACKSPACE_S = 19.6


def body(count: int) -> bytes:
    return json.dumps(
        {
            "total": count,
            "sessions": [
                {
                    "session_id": f"PHONE-claude-{n:08d}",
                    "agent_type": "codex" if n % 3 == 0 else "claude",
                    "device_id": "PHONE",
                    "message_count": n % 40,
                    "created_at": "2026-01-01T00:00:00",
                    "last_activity": f"2026-01-01T00:00:00.{n:08d}",
                }
                for n in range(count)
            ],
        }
    ).encode()


async def serve(payload: bytes) -> tuple[web.AppRunner, str]:
    async def sessions(request: web.Request) -> web.Response:
        return web.Response(body=payload, content_type="application/json")

    application = web.Application()
    application.router.add_get("/api/sessions", sessions)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


class Host(App[None]):
    """An empty app to open the dialog in, as the chat app does on F4."""


async def measure(url: str) -> None:
    started = time.perf_counter()
    listing = await list_sessions(url)
    fetched = time.perf_counter()
    rows = merge(listing, [], "BENCH")
    merged = time.perf_counter()
    lines = [session_line(row) for row in rows]
    drawn = time.perf_counter()
    print(
        f"  list_sessions      {fetched - started:7.3f} s  ({len(listing):,} kept; {listing.note})"
    )
    print(f"  merge              {merged - fetched:7.3f} s  ({len(rows):,} rows)")
    print(f"  session_line × {len(lines):,} {drawn - merged:7.3f} s")
    async with Host().run_test(size=(120, 40)) as pilot:
        opening = time.perf_counter()
        browser = SessionBrowser(rows, f"{len(listing):,} on the backend; {listing.note}")
        await pilot.app.push_screen(browser)
        await pilot.pause()
        opened = time.perf_counter()
        browser.refilter("claude-0019")
        await pilot.pause()
        typed = time.perf_counter()
        browser.refilter("")
        await pilot.pause()
        back = time.perf_counter()
        listed = len(browser.rows)
    f4 = (drawn - started) + (opened - opening)
    backspace = back - typed
    print(f"  dialog opened      {opened - opening:7.3f} s  (with its first filter pass)")
    print(f"  one keystroke      {typed - opened:7.3f} s")
    print(f"  Backspace          {backspace:7.3f} s  (back to every row: {listed:,} listed)")
    tracemalloc.start()
    again = await list_sessions(url)
    kept = [session_line(row) for row in merge(again, [], "BENCH")]
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    del kept
    print()
    print(f"  {'':22}{'now':>10}{'before':>12}{'ratio':>10}")
    print(f"  {'F4 (fetch to shown)':22}{f4:9.2f}s{BASELINE_F4_S:11.1f}s{f4 / BASELINE_F4_S:10.4f}")
    print(
        f"  {'F4 peak memory':22}{peak:8.1f}MB{BASELINE_F4_MB:10.0f}MB{peak / BASELINE_F4_MB:10.4f}"
    )
    print(
        f"  {'Backspace':22}{backspace:9.3f}s{BASELINE_BACKSPACE_S:11.1f}s"
        f"{backspace / BASELINE_BACKSPACE_S:10.4f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200_000)
    args = parser.parse_args()
    payload = body(args.sessions)
    print(f"F4 over {args.sessions:,} sessions ({len(payload) / 1e6:.1f} MB of JSON)")
    runner, url = await serve(payload)
    try:
        await measure(url)
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
