"""The files attached to the message being written, as chips above the composer: each says
its name and size, or its upload's progress, or why it failed. Clicking ✕ removes it; clicking
a failed chip uploads it again."""

from __future__ import annotations

from textual import events
from textual.containers import VerticalGroup
from textual.message import Message
from textual.widgets import Static

from tui.client.inert import inert_name
from tui.model.attachment_tray import TrayItem

REMOVE = " ✕"


class Chip(Static):
    class Remove(Message):
        def __init__(self, key: int) -> None:
            super().__init__()
            self.key = key

    class Retry(Message):
        def __init__(self, key: int) -> None:
            super().__init__()
            self.key = key

    def __init__(self, item: TrayItem) -> None:
        super().__init__(id=f"chip-{item.key}", markup=False)
        self.key = item.key
        self.show(item)

    def show(self, item: TrayItem) -> None:
        icon = "✗" if item.error else ("⇡" if item.uploading else "📎")
        self.update(f"{icon} {inert_name(item.label)}{REMOVE}")
        self.set_class(item.error is not None, "-failed")
        self.set_class(item.uploading, "-uploading")
        self.tooltip = (
            f"{item.error} — click to try again, ✕ to remove" if item.error else "✕ removes it"
        )

    def on_click(self, event: events.Click) -> None:
        event.stop()
        if event.x >= self.size.width - len(REMOVE) - 1:
            self.post_message(self.Remove(self.key))
        elif self.has_class("-failed"):
            self.post_message(self.Retry(self.key))


class AttachmentChips(VerticalGroup):
    """One chip a line (a long name stays readable), hidden while nothing is attached."""

    async def show(self, items: list[TrayItem]) -> None:
        """Bring the chips in step with the tray: labels updated in place, chips added and
        removed as files are."""
        chips = {chip.key: chip for chip in self.query_children(Chip)}
        keys = {item.key for item in items}
        for key, chip in chips.items():
            if key not in keys:
                await chip.remove()
        new = []
        for item in items:
            if item.key in chips:
                chips[item.key].show(item)
            else:
                new.append(Chip(item))
        if new:
            await self.mount_all(new)
        self.display = bool(items)
