"""Schema 5 → 6: who sent a message from another device (sync, docs/protocol.md §5): its name
as shown ("PHONE"); NULL for this device's own messages and for replies."""

STEPS = ("ALTER TABLE messages ADD COLUMN device TEXT",)
