"""The BuilderOS terminal client: a UI-free client core (`tui.client`) and the Textual app."""
