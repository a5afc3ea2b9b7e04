"""Schema 3 → 4: files attached to a message, and to a tab's draft (JSON lists, NULL for
none)."""

STEPS = (
    "ALTER TABLE messages ADD COLUMN attachments TEXT",
    "ALTER TABLE tabs ADD COLUMN draft_attachments TEXT",
)
