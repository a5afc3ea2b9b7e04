"""One message on screen, without a screen: its text cut into parts that render once (the
freeze model of a streaming reply), what of it is shown, and its lines per width, cached."""

from __future__ import annotations

import time
from bisect import bisect_left

from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from tui.client.activity import Activity, ActivityItem, Answer, PlanEntry
from tui.client.inert import inert, inert_line, inert_name
from tui.store import Status, StoredMessage
from tui.widgets.conversation.box import (
    Frame,
    Look,
    linkable,
    markdown,
    not_shown,
    one_line,
    render_lines,
    shown_time,
)
from tui.widgets.conversation.markdown_split import fence_state, next_cut
from tui.widgets.conversation.work import item_details, item_line, plan_text

LIVE_LIMIT = 800
"""Characters of a reply's tail re-rendered on each frame; finished blocks before are frozen."""
KEEP_TAIL = 200
STATUS_NOTES: dict[Status, str] = {
    "pending": "queued — sends when connected",
    "sent": "sent — awaiting the server",
    "acknowledged": "✓ received",
    "not_confirmed": "not confirmed — the connection dropped; ctrl+r sends it again",
    "replying": "replying…",
    "interrupted": "interrupted — ctrl+r asks again",
    "stopped": "stopped — ctrl+r asks again",
}
"""The marker under each message: what is true of it now."""
SHOWN_REPLY = 512 * 1024
"""Characters of a reply rendered on screen (as Markdown, in parts). A longer reply is stored,
searchable, copied and exported whole; the box says how much more there is and how to get it
(rendering 10 MiB would take minutes and gigabytes for lines nobody scrolls through)."""
RENDER_BUDGET = 0.05
"""Seconds of rendering finished parts per paint: a reply that came faster than it renders is
drawn over several paints, and keys are answered in between."""
SHOWN_PLAIN = 100_000
"""Characters of a user message or an error shown (wrapped as one text, not in parts); the
rest is stored, exported and searchable, and the box says how much is not shown."""


def _plain(text: str) -> str:
    if len(text) <= SHOWN_PLAIN:
        return text
    return f"{text[:SHOWN_PLAIN]}\n… {len(text) - SHOWN_PLAIN:,} more characters not shown"


class Entry:
    """One message on screen: its box, rendered once per width."""

    def __init__(self, message: StoredMessage | None, agent_name: str) -> None:
        self.message = message
        """None while it is the reply being written."""
        self.agent_name = agent_name
        markdown = message is not None and _markdown(message) and bool(message.text)
        self.parts: list[str] = []
        """Finished blocks of a reply, each rendered once (about LIVE_LIMIT characters)."""
        self.openers: list[str] = []
        """The code fence each part starts inside ("": none): a block cut only because it grew
        past FORCE_AFTER goes on in the next part."""
        self.tail = ""
        self.tail_opener = ""
        self._chars = 0
        """Characters in the parts."""
        self.hidden = 0
        """Characters past SHOWN_REPLY, not rendered."""
        self.behind = False
        """Parts wait to be rendered (the budget of a paint ran out): paint again soon."""
        self._cuts: set[int] = _cuts(message.activity) if message is not None else set()
        """Where the agent's work sits in the text: a part ends at each (so a tool call is
        drawn between the blocks it came between)."""
        if markdown and message is not None:
            self._take(message.text, whole=True)
        elif message is not None:
            self.tail = message.text
        self._lines: dict[int, list[Strip]] = {}
        self._heights: dict[int, int] = {}
        """Lines at each width, kept when the lines themselves are forgotten."""
        self._frozen: dict[int, list[Strip]] = {}
        self._frozen_count: dict[int, int] = {}
        self._frozen_ends: dict[int, list[int]] = {}
        """Per width, the number of frozen lines after each part (where work is placed)."""
        self.live_activity = Activity()
        """The work of the reply being written (a stored reply carries its own)."""
        self.expanded: set[str] = set()
        """Tool calls clicked: shown the other way from the rest (with or without details)."""
        self._work: dict[tuple[int, ActivityItem, bool, Answer | None], list[Strip]] = {}
        """Each tool call's lines, by width and whether expanded: rendered once each."""
        self._work_rows: list[tuple[int, int, str]] = []
        self._plan: tuple[tuple[int, tuple[PlanEntry, ...]], list[Strip]] | None = None
        """Where each tool call's lines are in the entry (first, last + 1, its id)."""

    @property
    def text(self) -> str:
        return "".join(self.parts) + self.tail

    @property
    def activity(self) -> Activity:
        """What the agent did in this reply."""
        return self.message.activity if self.message is not None else self.live_activity

    def work_changed(self, activity: Activity) -> None:
        """The reply being written has new work to show: the text so far is cut where each
        new tool call came."""
        self.live_activity = activity
        cuts = _cuts(activity)
        if cuts - self._cuts:
            self._cuts = cuts
            self._freeze(self.tail)
        self._stale()

    def toggle(self, item_id: str) -> None:
        """Show the tool call's details, or hide them."""
        self.expanded ^= {item_id}
        self._stale()

    def item_row(self, item_id: str) -> int | None:
        """The line of the entry where this tool call's line is, if it is drawn."""
        return next((first for first, _, i in self._work_rows if i == item_id), None)

    def item_at(self, line: int) -> str | None:
        """The tool call drawn on this line of the entry, if one is."""
        return next((i for first, last, i in self._work_rows if first <= line < last), None)

    @property
    def subtitle(self) -> str:
        if self.message is None:
            return "writing…"
        return STATUS_NOTES.get(self.message.status, "")

    @property
    def title(self) -> str:
        """Who wrote it, as the box's title says (a message from another device says which:
        "You · on PHONE")."""
        if self.message is not None and self.message.device:
            return f"You · on {inert_line(self.message.device)[:40]}"
        return {"user": "You", "error": "Error"}.get(self.role, self.agent_name)

    @property
    def role(self) -> str:
        return self.message.role if self.message else "assistant"

    def update(self, message: StoredMessage) -> None:
        """The message has a new value (its status, or a reopened reply's text): render
        again at the next paint."""
        if message.role == "assistant":
            self.finish(message)  # a reopened reply grew: its frozen parts stay
            return
        self.message = message
        self._stale()

    def grow(self, text: str) -> None:
        """The live reply is now `text` (it only grows): finished blocks past the limit are
        frozen, the rest is the tail."""
        self._take(text)
        self._stale()

    def _take(self, text: str, whole: bool = False) -> None:
        """Show `text`, which goes on from the parts already frozen, up to SHOWN_REPLY."""
        self.hidden = max(0, len(text) - SHOWN_REPLY)
        self._freeze(text[self._chars : SHOWN_REPLY], whole)

    def _freeze(self, tail: str, whole: bool = False) -> None:
        """Move the finished blocks of `tail` (what follows the parts) into parts of about
        LIVE_LIMIT characters, each rendered quickly; `whole`: a finished reply, cut the same
        way, all of it in parts."""
        opener = self.tail_opener
        while tail:
            cut = next_cut(tail, opener, LIVE_LIMIT, KEEP_TAIL) if len(tail) > LIVE_LIMIT else None
            forced = min(
                (c - self._chars for c in self._cuts if 0 < c - self._chars <= len(tail)),
                default=None,
            )
            if forced is not None and (cut is None or forced <= cut[0]):
                cut = forced, fence_state(tail[:forced], opener)
            if cut is None:
                break  # one long block (a code fence) is still being written
            offset, following = cut
            self.parts.append(tail[:offset])
            self.openers.append(opener)
            self._chars += offset
            tail, opener = tail[offset:], following
        if whole and tail:
            self.parts.append(tail)
            self.openers.append(opener)
            self._chars += len(tail)
            tail, opener = "", ""
        self.tail, self.tail_opener = tail, opener

    def finish(self, message: StoredMessage) -> None:
        """The reply is now `message` (the live one completed, or a stored one grew): it keeps
        the parts it has in so far as they still hold (nothing moves)."""
        self.message = message
        self._cuts = _cuts(message.activity)
        frozen = "".join(self.parts)
        if message.text.startswith(frozen):
            self._take(message.text)
        else:  # the stored text is not what streamed: render it afresh
            self.parts, self.openers, self.tail, self.tail_opener = [], [], "", ""
            self._chars = 0
            self._take(message.text, whole=True)
            self._frozen.clear()
            self._frozen_count.clear()
            self._frozen_ends.clear()
        self._stale()

    def lines(self, width: int, look: Look) -> list[Strip]:
        """The entry's lines at this width, styled and ready to paint (cached)."""
        cached = self._lines.get(width)
        if cached is None:
            cached = self.render_lines(width, look)
            if len(self._lines) > 2:
                self._lines.clear()  # a few widths are kept (a scrollbar may come and go)
            self._lines[width] = cached
            self._heights[width] = len(cached)
        return cached

    def height(self, width: int) -> int | None:
        """How many lines it takes at this width, if it was rendered since it changed."""
        return self._heights.get(width)

    @property
    def rendered(self) -> bool:
        """It keeps rendered lines (at some width); else only their count."""
        return bool(self._lines)

    def render_more(self) -> None:
        """Its parts are not all drawn (`behind`): the next paint draws on from there."""
        self._lines.clear()

    def forget(self) -> None:
        """Drop the rendered lines, keeping their count: rendered again if shown again."""
        self._lines.clear()
        self._frozen.clear()
        self._frozen_count.clear()
        self._frozen_ends.clear()
        self._work.clear()
        self._plan = None

    def redraw(self) -> None:
        """Render it again, its height too (what its tool calls show changed)."""
        self.forget()
        self._stale()

    def _stale(self) -> None:
        """What it shows changed: render again at the next paint."""
        self._lines.clear()
        self._heights.clear()

    # rendering ----------------------------------------------------------------------------------

    def render_lines(self, width: int, look: Look) -> list[Strip]:
        """The box: top edge, body lines, bottom edge, a blank line. Only the tail of a reply
        being written is rendered again; its frozen parts are kept boxed, per width."""
        frame = Frame(self.role, width, look)
        message = self.message
        if message is not None and message.role in ("user", "error"):
            shown = inert(_plain(message.text))  # from the server too: shown, never obeyed
            text = Text(shown if message.role == "user" else f"Error: {shown}")
            for attached in message.attachments:  # where the backend keeps it, as a link
                link = Style(link=attached.url) if linkable(attached.url) else Style()
                text.append(f"\n📎 {inert_name(attached.label)}", look.palette.note + link)
            body = frame.box(render_lines(text, frame.inner, look))
        else:
            frozen = self._frozen_lines(frame)
            tail = self.tail or ("" if self.parts or message is None else _empty(message))
            tail = _reopened(self.tail_opener, tail) if self.tail else tail
            if self.behind:  # the tail follows once the parts before it are drawn
                tail = ""
            tail_lines = frame.box(render_lines(markdown(tail), frame.inner, look)) if tail else []
            gap = frame.box([[]]) if frozen and tail_lines else []
            activity = self.activity
            if activity:
                body = self._with_work(frame, activity, frozen, [*gap, *tail_lines])
            else:
                self._work_rows = []
                body = [*frozen, *gap, *tail_lines]
            if self.hidden and not self.behind:
                body += frame.box(render_lines(not_shown(self.hidden, look), frame.inner, look))
        title = self.title
        if look.times and message is not None and (when := shown_time(message.timestamp)):
            title = f"{title} · {when}"
        return [frame.edge(True, title), *body, frame.edge(False, self.subtitle), frame.blank]

    def _with_work(
        self, frame: Frame, activity: Activity, frozen: list[Strip], tail: list[Strip]
    ) -> list[Strip]:
        """The body with the plan on top and each tool call after the part of the text it
        followed (`at`): the parts are cut at blocks, so a call never splits a paragraph."""
        ends = self._frozen_ends.get(frame.width, [])
        bounds, total = [], 0
        for part in self.parts[: len(ends)]:
            total += len(part)
            bounds.append(total)
        slots: dict[int, list[ActivityItem]] = {}
        for item in activity.items:  # after the first part that reaches it (bisect: 200 calls
            index = bisect_left(bounds, item.at)  # over 200 parts was a tenth of a frame)
            slot = 0 if item.at == 0 else index + 1 if index < len(bounds) else -1
            slots.setdefault(slot, []).append(item)
        body: list[Strip] = []
        if activity.plan:
            body += self._plan_lines(frame, activity.plan)
        rows: list[tuple[int, int, str]] = []

        def place(items: list[ActivityItem]) -> None:
            for item in items:
                first = len(body) + 1  # the top edge is the entry's line 0
                body.extend(self._item_lines(frame, item))
                rows.append((first, len(body) + 1, item.id))

        place(slots.get(0, []))
        start = 0
        for index, end in enumerate(ends):
            body.extend(frozen[start:end])
            start = end
            place(slots.get(index + 1, []))
        body.extend(tail)
        place(slots.get(-1, []))
        self._work_rows = rows
        return body

    def _plan_lines(self, frame: Frame, plan: tuple[PlanEntry, ...]) -> list[Strip]:
        """The plan's checklist and a blank line, rendered once per plan and width."""
        key = (frame.width, plan)
        if self._plan is None or self._plan[0] != key:
            lines = frame.box(render_lines(plan_text(plan), frame.inner, frame.look))
            self._plan = key, [*lines, *frame.box([[]])]
        return self._plan[1]

    def _item_lines(self, frame: Frame, item: ActivityItem) -> list[Strip]:
        answer = self.activity.answer_for(item.id) if self.activity.answers else None
        key = (frame.width, item, frame.look.details != (item.id in self.expanded), answer)
        lines = self._work.get(key)
        if lines is None:
            if len(self._work) > 4 * max(1, len(self.activity.items)):
                self._work.clear()  # old values of calls that changed since
            lines = frame.box(one_line(item_line(item, answer), frame.inner, frame.look))
            if key[2]:
                lines += frame.box(render_lines(item_details(item), frame.inner, frame.look))
            self._work[key] = lines
        return lines

    def _frozen_lines(self, frame: Frame) -> list[Strip]:
        """The frozen parts, boxed at this width, each rendered once, for at most RENDER_BUDGET
        seconds a paint (`behind`: some are left for the next)."""
        width = frame.width
        done = self._frozen_count.get(width, 0)
        lines = self._frozen.setdefault(width, [])
        until = time.monotonic() + RENDER_BUDGET
        self.behind = False
        for index in range(done, len(self.parts)):
            if index > done and time.monotonic() > until:
                self.behind = True
                break
            if index:
                lines.extend(frame.box([[]]))
            text = _reopened(self.openers[index], self.parts[index])
            lines.extend(frame.box(render_lines(markdown(text), frame.inner, frame.look)))
            self._frozen_count[width] = index + 1
            self._frozen_ends.setdefault(width, []).append(len(lines))
        return lines


def _cuts(activity: Activity) -> set[int]:
    return {item.at for item in activity.items if item.at > 0}


def _reopened(opener: str, text: str) -> str:
    """A part that starts inside a code fence, rendered inside it."""
    return f"{opener}\n{text}" if opener else text


def _markdown(message: StoredMessage) -> bool:
    return message.role not in ("user", "error")


def _empty(message: StoredMessage) -> str:
    if message.status in ("interrupted", "stopped"):
        return f"_The reply was {message.status} before any text arrived._"
    return "_No text._"
