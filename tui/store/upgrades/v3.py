"""Schema 2 → 3: the full-text index of every message. Nothing to alter: the index is built
from what is stored by tui.store.schema.add_fulltext, which runs at every open (SQLite may have
no FTS5, and then search scans)."""

STEPS: tuple[str, ...] = ()
