"""The BuilderOS Terminal chat app: tabs of Claude and Codex chats, as on the phone.

Thin by design: it draws the workspace's state and dispatches the user's intent to it, a file
per idea: `core` (shared state and the hooks the harness waits on), `drawing` (each workspace
change to what draws it), `tab_actions` and `history_actions` (what the user does), and
`chat_app` (the app itself: start, stop, keys, the conversation's own actions, the palette).
"""

from tui.app.chat_app import ChatApp
from tui.app.core import TIMES_SETTING
from tui.app.setup import ChatSetup

__all__ = ["TIMES_SETTING", "ChatApp", "ChatSetup"]
