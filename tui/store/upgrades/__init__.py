"""One module per schema version: the statements that bring a history of the version before
it up to this one (run in order, all in one transaction, by tui.store.schema.upgrade). Each is
tested on a file of the version before it (tests/unit/tui/test_store_upgrade.py and
test_store_search.py)."""

from __future__ import annotations

from tui.store.upgrades import v2, v3, v4, v5, v6

STEPS: dict[int, tuple[str, ...]] = {
    2: v2.STEPS,
    3: v3.STEPS,
    4: v4.STEPS,
    5: v5.STEPS,
    6: v6.STEPS,
}
"""Each schema version's statements, from the version before it."""
