"""Enrolment panel (救助保障) for one household: its enrolments, transitions, reviews.

Every button calls one function of :mod:`mzdesk.models.enrolment`; a refused
transition comes back as the core's message, shown once (:func:`mzdesk.ui.ops.run`).

Wiring: a tab "救助保障" on the household dialog → ``EnrolmentPanel(store, household_id)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import enrolment as enr
from ..models.categories import categories, state_label
from ..models.money import format_fen, parse_assistance
from ..models.query import default_category, household_members
from ..models.store import Store
from . import income_panel, ops

ACTION_LABELS = {a: v[0] for a, v in enr.ACTIONS.items()} | {
    "amend": "修改核定",
    "publicise_change": "变更公示",
    "publicise_stop": "停发公示",
}


def table(headers: tuple[str, ...]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    t.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    return t


def fill(t: QTableWidget, rows: list[tuple]) -> None:
    t.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            t.setItem(i, j, QTableWidgetItem("" if v is None else str(v)))
    t.resizeColumnsToContents()


class FieldsDialog(QDialog):
    """A small form: ``fields`` is [(key, label, widget)]."""

    def __init__(self, title: str, fields: list[tuple[str, str, QWidget]], parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.widgets = {k: w for k, _, w in fields}
        form = QFormLayout(self)
        for _, label, w in fields:
            form.addRow(label, w)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)

    def value(self, key: str):
        w = self.widgets[key]
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QSpinBox):
            return w.value()
        return w.text()


class EnrolmentPanel(QWidget):
    """One household's enrolments with their history and the next possible actions."""

    changed = Signal(int)  # enrolment id

    def __init__(self, store: Store, household_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.household_id = household_id
        self.enrolments: list[enr.Enrolment] = []
        self.list = table(
            ("编号", "类别", "对象", "状态", "保障人口", "金额(元)", "起始", "复核到期")
        )
        self.history = table(("时间", "经办人", "操作", "状态", "原因/说明"))
        self.list.itemSelectionChanged.connect(self._selected)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, label, slot in (
            ("apply", "新申请…", self._apply_clicked),
            ("investigate", "开始调查", lambda: self.act("investigate")),
            ("record_investigation", "登记调查…", self._survey_clicked),
            ("deliberate", "民主评议…", self._deliberate_clicked),
            ("submit", "报送审核", lambda: self.act("submit")),
            ("review", "复核…", self._review_clicked),
            ("stop", "停发…", lambda: self._reason_then("stop", "停发原因")),
            ("reject", "不予确认…", lambda: self._reason_then("reject", "不予确认理由")),
        ):
            b = QPushButton(label)
            b.clicked.connect(slot)
            self.buttons[key] = b
            row.addWidget(b)
        self.income_button = QPushButton("收入核算…")  # ui/income_panel.py
        self.income_button.clicked.connect(self.open_income)
        row.addWidget(self.income_button)
        row.addStretch(1)
        self.note = QLabel()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(self.history)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        layout.addWidget(self.note)
        self.refresh()

    # -- data ---------------------------------------------------------------------
    def refresh(self, select: int | None = None) -> None:
        self.enrolments = enr.for_household(self.store, self.household_id)
        names = {
            m["id"]: m["name"]
            for m in household_members(self.store, self.household_id, active_only=False)
        }
        fill(
            self.list,
            [
                (
                    e.id,
                    enr.describe(self.store, e),
                    names.get(e.member_id, "全户"),
                    state_label(e.state),
                    e.covered,
                    format_fen(e.monthly_fen),
                    e.start_on,
                    e.review_due,
                )
                for e in self.enrolments
            ],
        )
        ids = [e.id for e in self.enrolments]
        if select in ids:
            self.list.selectRow(ids.index(select))
        elif ids:
            self.list.selectRow(len(ids) - 1)
        self._selected()

    def current(self) -> enr.Enrolment | None:
        rows = self.list.selectionModel().selectedRows()
        return self.enrolments[rows[0].row()] if rows else None

    def _selected(self) -> None:
        e = self.current()
        for key, b in self.buttons.items():
            if key != "apply":
                b.setEnabled(e is not None and e.state in enr.ACTIONS[key][1])
        self.income_button.setEnabled(e is not None and income_panel.applies(self.store, e))
        if e is None:
            fill(self.history, [])
            self.note.setText("")
            return
        fill(
            self.history,
            [
                (
                    h["at"],
                    h["by"],
                    ACTION_LABELS.get(h["action"], h["action"]),
                    state_label(h["to_state"]),
                    h["reason"],
                )
                for h in enr.history(self.store, e.id)
            ],
        )
        why = (
            enr.ready_for_notice(self.store, e)
            if e.state in ("investigating", "reviewed")
            else None
        )
        self.note.setText(f"尚不能公示：{why}" if why else "")

    # -- actions (also called by tests) ---------------------------------------------------
    def _call(self, title: str, fn: Callable[[], enr.Enrolment]) -> bool:
        return bool(ops.run(self, fn, self._changed, title=title))

    def _changed(self, e: enr.Enrolment) -> None:
        self.refresh(select=e.id)
        self.changed.emit(e.id)

    def apply(
        self,
        category: str,
        member_id: int | None = None,
        cls: str = "",
        monthly_fen: int = 0,
        reason: str = "",
    ) -> bool:
        return self._call(
            "新申请",
            lambda: enr.create(
                self.store,
                self.household_id,
                category,
                member_id=member_id,
                cls=cls,
                monthly_fen=monthly_fen,
                reason=reason,
            ),
        )

    def open_income(self) -> income_panel.IncomeDialog | None:
        """收入核算 for the selected enrolment; refreshes when an amount was saved."""
        e = self.current()
        if e is None:
            return None
        dlg = income_panel.IncomeDialog(self.store, e, self)
        dlg.accepted.connect(lambda: self._changed(enr.get(self.store, e.id)))
        dlg.open()
        return dlg

    def act(self, action: str, today: dt.date | None = None, **kw) -> bool:
        """Run one transition on the selected enrolment."""
        e = self.current()
        if e is None:
            return False
        title = ACTION_LABELS.get(action, action)
        fns = {
            "investigate": lambda: enr.start_investigation(self.store, e.id, **kw),
            "record_investigation": lambda: enr.record_investigation(self.store, e.id, **kw),
            "deliberate": lambda: enr.deliberate(self.store, e.id, **kw),
            "submit": lambda: enr.submit(self.store, e.id, today=today, **kw),
            "review": lambda: enr.review(self.store, e.id, today=today, **kw),
            "stop": lambda: enr.stop(self.store, e.id, today=today, **kw),
            "reject": lambda: enr.reject(self.store, e.id, today=today, **kw),
        }
        return self._call(title, fns[action])

    # -- dialogs ------------------------------------------------------------------------------
    def _apply_clicked(self) -> None:
        cat = QComboBox()
        for code, c in categories(self.store).items():
            cat.addItem(c["name"], code)
        cat.setCurrentIndex(max(0, cat.findData(default_category(self.store, self.household_id))))
        member = QComboBox()
        member.addItem("全户（按户保障的类别）", None)
        for m in household_members(self.store, self.household_id):
            member.addItem(f"{m['name']}（{m['relation']}）", m["id"])
        cls, amount, reason = QLineEdit(), QLineEdit("0"), QLineEdit()
        cls.setPlaceholderText("如 二类、全自理、80-89岁")
        dlg = FieldsDialog(
            "新申请",
            [
                ("category", "类别", cat),
                ("member", "保障对象", member),
                ("cls", "档次", cls),
                ("amount", "拟保障金额(元)", amount),
                ("reason", "说明", reason),
            ],
            self,
        )
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        fen = ops.run(self, lambda: parse_assistance(amount.text()), title="新申请")
        if fen:
            self.apply(
                dlg.value("category"),
                dlg.value("member"),
                cls.text().strip(),
                fen.value,
                reason.text(),
            )

    def _survey_clicked(self) -> None:
        a, b, ver, concl = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        dlg = FieldsDialog(
            "登记入户调查",
            [
                ("a", "调查人一", a),
                ("b", "调查人二", b),
                ("v", "经济状况核对结果", ver),
                ("c", "调查结论", concl),
            ],
            self,
        )
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.act(
                "record_investigation",
                investigators=[a.text(), b.text()],
                verification=ver.text(),
                conclusion=concl.text(),
            )

    def _deliberate_clicked(self) -> None:
        n = QSpinBox()
        n.setRange(0, 500)
        result = QLineEdit("同意")
        dlg = FieldsDialog("民主评议", [("n", "参会人数", n), ("r", "评议结果", result)], self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.act("deliberate", attendance=n.value(), result=result.text())

    def _review_clicked(self) -> None:
        outcome = QComboBox()
        for code, label in enr.REVIEW_OUTCOMES.items():
            outcome.addItem(label, code)
        amount, reason = QLineEdit(), QLineEdit()
        amount.setPlaceholderText("变更时填写新金额(元)")
        dlg = FieldsDialog(
            "复核",
            [("o", "复核结果", outcome), ("a", "新金额(元)", amount), ("r", "原因", reason)],
            self,
        )
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        fen = ops.run(
            self,
            lambda: parse_assistance(amount.text()) if amount.text().strip() else None,
            title="复核",
        )
        if fen:
            self.act(
                "review", outcome=outcome.currentData(), monthly_fen=fen.value, reason=reason.text()
            )

    def _reason_then(self, action: str, label: str) -> None:
        reason = QLineEdit()
        dlg = FieldsDialog(ACTION_LABELS[action], [("r", label, reason)], self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.act(action, reason=reason.text())
