"""Schema 4 → 5: what an agent did in a reply (its tool calls, plan and usage, as JSON; NULL
for none), and the approvals still open, so a question survives an app restart."""

STEPS = (
    "ALTER TABLE messages ADD COLUMN activity TEXT",
    "CREATE TABLE IF NOT EXISTS approvals ("
    " session_id TEXT NOT NULL, approval_id TEXT NOT NULL, approval TEXT NOT NULL,"
    " asked_at TEXT NOT NULL, PRIMARY KEY (session_id, approval_id))",
)
