"""Schema 1 → 2: tabs belong to a backend; the last numbered reply frame per session is kept
(the sessions table, created by the schema itself); a user message whose reply came is
`acknowledged` (`sent` now means "no answer yet")."""

STEPS = (
    "ALTER TABLE tabs ADD COLUMN backend TEXT NOT NULL DEFAULT ''",
    "UPDATE messages SET status = 'acknowledged' WHERE role = 'user' AND status = 'sent'",
)
