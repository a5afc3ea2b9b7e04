"""Adapters to the machine the client runs on: the clipboard, the desktop notifier and bell,
the lock that keeps one app per data dir, and the bundled mock started for demo mode."""
