"""The enrolment panel's 告知书 and 延期 entries (in its 更多… menu).

打印受理通知书 / 不予受理告知书 / 不予确认告知书 / 停发告知书: a save dialog
(:mod:`mzdesk.ui.saving`, through ``ui/file_dialogs.py``), then
:func:`mzdesk.reports.letters_pdf.write_letter` through ``ops.run``.  延期: a
:class:`FieldsDialog` asking the reason, then :func:`mzdesk.models.clocks.extend`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLineEdit, QMenu, QWidget

from ..models import clocks, letters
from ..models import enrolment as enr
from ..models.store import Store
from ..reports.letters_pdf import write_letter
from . import ops
from .fields_dialog import FieldsDialog
from .saving import ask_save_path

# the state each letter needs (accept: any application not refused at intake)
LETTER_STATES = {
    "accept": (*enr.LIVE_STATES, "phasing_out", "suspended", "rejected", "stopped"),
    "not_accept": ("not_accepted",),
    "reject": ("rejected",),
    "stop": ("stopped",),
}


class LetterActions:
    """Menu entries on a panel with ``store``, ``current()`` and ``refresh(select=)``."""

    def __init__(
        self,
        parent: QWidget,
        store: Store,
        menu: QMenu,
        current: Callable[[], enr.Enrolment | None],
        refreshed: Callable[[int], None],
    ):
        self.parent, self.store = parent, store
        self.current, self.refreshed = current, refreshed
        self.dialog: FieldsDialog | None = None
        menu.addSeparator()
        self.actions: dict[str, QAction] = {
            kind: menu.addAction(f"打印{label}…", lambda k=kind: self.print_letter(k))
            for kind, label in letters.KINDS.items()
        }
        self.extend_action = menu.addAction("延期（办理时限）…", self.extend_clicked)

    def update(self, e: enr.Enrolment | None) -> None:
        for kind, action in self.actions.items():
            action.setEnabled(e is not None and e.state in LETTER_STATES[kind])
        self.extend_action.setEnabled(e is not None and e.state in clocks.DECISION_STATES)

    def print_letter(self, kind: str, path: str | None = None) -> str | None:
        """Ask where (unless ``path``), print, refresh the history; the path or None."""
        e = self.current()
        if e is None:
            return None
        label = letters.KINDS[kind]
        path = path or ask_save_path(
            self.parent, f"保存{label}", f"{label}_{e.id}.pdf", ".pdf", "PDF"
        )
        if not path:
            return None
        done = ops.run(
            self.parent,
            lambda: write_letter(self.store, e.id, kind, path),
            lambda _letter: self.refreshed(e.id),
            title=f"打印{label}",
        )
        return path if done else None

    def extend_clicked(self) -> FieldsDialog | None:
        e = self.current()
        if e is None:
            return None
        reason = QLineEdit()
        reason.setPlaceholderText("如：需核对外地房产、车辆信息")
        limit = clocks.settings()["clocks"]["decision"].get("extended_working_days")
        dlg = FieldsDialog(
            "延期",
            [("r", f"延期原因（期限延长至{limit}个工作日）", reason)],
            self.parent,
            action=lambda: clocks.extend(self.store, e.id, reason.text()),
            on_done=lambda _done: self.refreshed(e.id),
            where={"reason_required": "r", "reason": "r"},
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self.dialog = dlg
        return dlg
