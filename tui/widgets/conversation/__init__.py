"""The conversation as one widget (Textual's Line API): every message, and the reply being
written, painted from cached lines.

A widget per message (and a widget tree per streaming Markdown reply) made every chunk of a
reply re-lay out the whole screen: most of a core while an agent talked, a fifth of a second
per keystroke. Here each message is rendered by Rich once per width into strips; painting
asks only for the visible lines. The reply being written keeps its finished blocks as frozen
parts (rendered once) and re-renders only its tail, at most `FRAME_RATE` times a second, with
the chunks that came in between. A finished reply keeps the parts it streamed in, so nothing
moves when it completes.
"""

from tui.widgets.conversation.box import DisplayOptions, Look, Palette, shown_time
from tui.widgets.conversation.entry import LIVE_LIMIT, SHOWN_REPLY, Entry
from tui.widgets.conversation.log import KEEP_RENDERED, ConversationLog

__all__ = [
    "KEEP_RENDERED",
    "LIVE_LIMIT",
    "SHOWN_REPLY",
    "ConversationLog",
    "DisplayOptions",
    "Entry",
    "Look",
    "Palette",
    "shown_time",
]
