"""注销家庭: the reason asked in a form that keeps it, and a confirmation before the step.

A :class:`FieldsDialog`: the reason is typed, 确定 asks "确定注销…？" (注销 takes the
household off the register), and only then runs :meth:`Registry.delete`.  "否" on the
question, or a refusal by the core (no reason, a running enrolment), leaves the dialog
open with the reason as typed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from ..models.household import Household
from ..models.registry import Registry
from .fields_dialog import FieldsDialog


def deregister_dialog(
    parent: QWidget | None,
    registry: Registry,
    h: Household,
    on_done: Callable[[int], object] | None = None,
) -> FieldsDialog:
    """Open (window-modal, not blocking) the 注销 form of household ``h``; returned."""
    hid = h.id
    assert hid is not None  # a saved household
    head = h.head.name if h.head else ""
    about = QLabel(
        f"家庭 {hid}（户主 {head}，{h.village}{h.village_group}）\n"
        "记录不会被删除，注销后可在“已注销”中查到。"
    )
    reason = QLineEdit()
    reason.setPlaceholderText("例如 全户迁出本乡镇、户主死亡且无其他成员")
    dlg = FieldsDialog(
        "注销家庭",
        [("household", "家庭", about), ("reason", "注销原因", reason)],
        parent,
        action=lambda: registry.delete(hid, reason.text()),
        on_done=lambda _r: on_done(hid) if on_done else None,
        where={"missing_reason": "reason", "enrolment_running": "reason"},
    )
    question = f"确定注销家庭 {hid}（户主 {head}）？\n注销后该户不再出现在在册家庭中。"
    # asked once there is a reason: without one the form says so beside the field first
    reason.textChanged.connect(lambda t: setattr(dlg, "confirm", question if t.strip() else ""))
    dlg.ok_btn.setText("注销 (Ctrl+S)")
    dlg.open()
    reason.setFocus()
    return dlg
