"""What `ChatApp.settled()` waits on: posted updates, handled or forgotten per widget."""

from __future__ import annotations

import asyncio

from tui.model.updates import Outstanding


async def test_idle_waits_until_every_posted_update_is_handled() -> None:
    updates = Outstanding()
    await updates.idle()  # nothing posted: at once
    view, app = object(), object()
    updates.posted(view)
    updates.posted(view)
    updates.posted(app)
    waiting = asyncio.create_task(updates.idle())
    await asyncio.sleep(0)
    updates.handled(view)
    updates.handled(app)
    await asyncio.sleep(0)
    assert not waiting.done() and updates.count == 1
    updates.handled(view)
    await asyncio.wait_for(waiting, 1)
    assert updates.count == 0


async def test_a_removed_widget_never_blocks_the_wait() -> None:
    updates = Outstanding()
    closed = object()
    updates.posted(closed)
    updates.forget(closed)  # removed with an update still queued
    await asyncio.wait_for(updates.idle(), 1)
    updates.handled(closed)  # a late report for it changes nothing
    assert updates.count == 0
