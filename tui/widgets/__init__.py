"""Widgets of the chat app, grouped by feature; they draw state and post messages upward."""
