"""The agent's questions (docs/protocol.md §4.3): asked in a dialog in their tab, when it is
shown (a tab not shown is marked, and the reply alert rings); answered here or on another
device, whichever comes first: a question answered elsewhere closes, saying by whom."""

from __future__ import annotations

from textual.screen import ModalScreen

from tui.app.drawing import DrawsWorkspace
from tui.client.activity import SAID, Approval
from tui.client.inert import inert_line
from tui.model.workspace import ApprovalClosed, ApprovalOpened, Change
from tui.widgets.approval_dialog import ApprovalDialog


class AsksApprovals(DrawsWorkspace):
    _asking: tuple[str, str, ApprovalDialog] | None = None
    """The question on screen: its tab, its id, its dialog."""

    def _workspace_changed(self, change: Change) -> None:
        super()._workspace_changed(change)
        match change:
            case ApprovalOpened(tab_id, approval):
                assert self.workspace is not None
                if tab_id == self.workspace.selected_id:
                    self._ask(tab_id)
                else:
                    tab = self.workspace.tab(tab_id)
                    self._ring(f"{tab.title if tab else 'A tab'} asks", approval.item.title)
            case ApprovalClosed(tab_id, approval_id, decision, by):
                self._question_closed(tab_id, approval_id, decision, by)

    def _show_selected(self) -> None:
        super()._show_selected()
        if self.workspace is not None:
            self._ask(self.workspace.selected.tab_id)

    def _ask(self, tab_id: str) -> None:
        """Put the tab's oldest open question on screen, unless one already is."""
        workspace = self.workspace
        tab = workspace.tab(tab_id) if workspace else None
        if tab is None or not tab.approvals or self._asking is not None:
            return
        if isinstance(self.screen, ModalScreen):
            return  # another dialog is up: asked when the tab is shown again
        approval = next(iter(tab.approvals.values()))
        dialog = ApprovalDialog(approval, tab.title)
        self._asking = (tab_id, approval.id, dialog)

        def answered(decision: str | None) -> None:
            self._asking = None
            if decision is not None:
                self._answer(tab_id, approval, decision)

        self.push_screen(dialog, answered)

    def _answer(self, tab_id: str, approval: Approval, decision: str) -> None:
        assert self.workspace is not None
        if not self.workspace.answer_approval(tab_id, approval.id, decision):
            self.notify(
                "Not connected: the question stays open (answer it when the tab reconnects).",
                severity="warning",
            )

    def _question_closed(self, tab_id: str, approval_id: str, decision: str, by: str) -> None:
        """A question was answered (here or elsewhere) or its reply ended: its dialog goes,
        and the next question of the tab, if any, comes up."""
        assert self.workspace is not None
        asking = self._asking
        if asking is not None and asking[:2] == (tab_id, approval_id):
            self._asking = None
            if asking[2].is_attached:
                asking[2].dismiss(None)
        if by != self.workspace.device_id:
            how = SAID.get(decision, decision)
            self.notify(f"The agent's question was {how} ({inert_line(by)}).", timeout=5)
        if tab_id == self.workspace.selected_id:
            self.call_after_refresh(self._ask, tab_id)
