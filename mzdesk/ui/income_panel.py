"""收入核算 dialog: a household's income against the standard, with the working shown.

Opened from the enrolment panel (button 收入核算…) for a 低保 or 特困 enrolment, at
application (before the notice: the amount is amended) and at review (in payment: a
review's change).  The clerk adds the 刚性支出 items and support from relatives living
elsewhere, reads the working (收入项、扣除项、人均、标准、差额), and saves the proposal or
an amount of their own with a reason.  Everything is computed by
:mod:`mzdesk.models.income`; this module holds no rule and no SQL.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import enrolment as enr
from ..models import income, standards
from ..models.categories import state_label
from ..models.dates import current_day
from ..models.errors import MzError
from ..models.money import format_fen, parse_assistance, parse_yuan
from ..models.query import household_members
from ..models.store import Store
from . import ops

SECTIONS = {"income": "收入项", "deduction": "扣除项", "result": "核算"}
_TINT = {"income": "#eef6ee", "deduction": "#fdf1e6", "result": "#eaf0fa"}


def applies(store: Store, e: enr.Enrolment) -> bool:
    """Whether an enrolment's category has a standard to compute against."""
    return e.category in standards.settings() and e.state in (
        "applied",
        "investigating",
        "reviewed",
        "active",
    )


class IncomeDialog(QDialog):
    """The calculation for the household of ``e``; :meth:`save` records the amount."""

    def __init__(self, store: Store, e: enr.Enrolment, parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.enrolment = store, e
        self.calc: income.Calculation | None = None
        self.setWindowTitle(f"收入核算 — {enr.describe(store, e)}（编号{e.id}）")
        self.month = QLineEdit(f"{current_day():%Y-%m}")
        self.month.setMaximumWidth(90)
        self.covered = QSpinBox()
        self.covered.setRange(1, 99)
        self.covered.setValue(e.covered)
        self.support = QLineEdit("0")
        self.rigid: dict[str, QLineEdit] = {}
        inputs = QGroupBox("核算依据（金额为全年，元）")
        form = QFormLayout(inputs)
        top = QHBoxLayout()
        top.addWidget(QLabel("标准月份"))
        top.addWidget(self.month)
        top.addSpacing(16)
        top.addWidget(QLabel("保障人口"))
        top.addWidget(self.covered)
        top.addStretch(1)
        form.addRow(top)
        for item in income.rules().get("rigid_expenses", []):
            w = QLineEdit("0")
            self.rigid[item["code"]] = w
            form.addRow(f"刚性支出：{item['label']}", w)
        form.addRow("户外义务人赡养费", self.support)
        again = QPushButton("重新核算")
        again.clicked.connect(self.recompute)
        form.addRow(again)
        inputs.setFixedWidth(340)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(("类别", "项目", "年金额(元)", "计算过程"))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        for col in (0, 1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.heading = QLabel(self._heading())
        self.result = QLabel()
        font = QFont(self.result.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.result.setFont(font)
        self.amount = QLineEdit()
        self.amount.setMaximumWidth(120)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("与建议金额不同时必须填写原因")
        decide = QGroupBox("核定")
        drow = QHBoxLayout(decide)
        drow.addWidget(QLabel("核定金额(元/月)"))
        drow.addWidget(self.amount)
        drow.addWidget(QLabel("调整原因"))
        drow.addWidget(self.reason, 1)
        box = QDialogButtonBox()
        box.addButton("采用并保存", QDialogButtonBox.ButtonRole.AcceptRole)
        box.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        box.accepted.connect(self.save)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        middle = QHBoxLayout()
        middle.addWidget(inputs, 0, Qt.AlignmentFlag.AlignTop)
        middle.addWidget(self.table, 1)
        layout.addLayout(middle, 1)
        layout.addWidget(self.result)
        layout.addWidget(decide)
        layout.addWidget(box)
        self.resize(1120, 600)
        self.recompute()

    def _heading(self) -> str:
        e = self.enrolment
        members = household_members(self.store, e.household_id)
        head = next((m["name"] for m in members if m["relation"] == "户主"), "")
        saving = "在保：保存为复核变更金额" if e.state == "active" else "申请：保存为调查核定金额"
        return (
            f"<b>{head}户</b>（家庭成员{len(members)}人）　{enr.describe(self.store, e)}"
            f"（编号{e.id}，{state_label(e.state)}）　<span style='color:#555'>{saving}</span>"
        )

    # -- the calculation -------------------------------------------------------------------
    def _inputs(self) -> dict:
        rigid = {code: parse_yuan(w.text() or "0", code) for code, w in self.rigid.items()}
        return dict(
            category=self.enrolment.category,
            month=standards.parse_month(self.month.text()),
            covered=self.covered.value(),
            rigid=rigid,
            outside_support_fen_year=parse_yuan(self.support.text() or "0", "support"),
        )

    def compute(self) -> income.Calculation:
        return income.calculate(self.store, self.enrolment.household_id, **self._inputs())

    def recompute(self) -> bool:
        return bool(ops.run(self, self.compute, self.show_calculation, title="收入核算"))

    def show_calculation(self, calc: income.Calculation) -> None:
        self.calc = calc
        self.table.setRowCount(len(calc.lines))
        for i, line in enumerate(calc.lines):
            text = line.text.split("：", 1)[-1]
            fen = "" if line.annual_fen is None else format_fen(line.annual_fen)
            cells = (SECTIONS[line.section], line.label, fen, text)
            for j, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setBackground(QColor(_TINT[line.section]))
                if j == 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if line.label in ("收入合计", "扣除合计", "补差", "差额"):
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                self.table.setItem(i, j, item)
        colour = {"dibao": "#1b6e2a", "edge": "#9a5b00", "none": "#8a1f1f"}[calc.eligibility]
        self.result.setText(
            f"<span style='color:{colour}'>结论：{calc.eligibility_label}</span>　"
            f"人均月收入 {format_fen(calc.per_capita_month_fen)} 元　"
            f"建议金额 {format_fen(calc.proposed_fen)} 元/月"
        )
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.amount.setText(format_fen(calc.proposed_fen))

    # -- saving ----------------------------------------------------------------------------
    def _adopt(self) -> enr.Enrolment:
        if self.calc is None:
            raise MzError("请先核算", "not_calculated")
        fen = parse_assistance(self.amount.text(), "amount")
        return income.adopt(self.store, self.enrolment.id, self.calc, fen, self.reason.text())

    def save(self) -> bool:
        done = bool(ops.run(self, self._adopt, title="采用核算金额"))
        if done:
            self.accept()
        return done
