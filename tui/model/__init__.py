"""What the app shows, as plain Python testable without a screen: the tabs and their replies in
flight (`workspace`, `reply`), settings, the key table, search and export, the session list and
the attachment tray. Nothing here imports Textual."""
