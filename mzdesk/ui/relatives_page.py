"""Declared relatives page (近亲属备案): declare, list and withdraw declarations,
and the enrolments they flag for the county's home visit.

Every action calls ``models.relatives`` (validation and the permission check
live there); ID numbers arrive here already masked.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..models import relatives
from ..models.store import Store
from . import ops

TITLE = "近亲属备案"


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setSelectionBehavior(QTableWidget.SelectRows)
    t.setEditTriggers(QTableWidget.NoEditTriggers)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def _fill(table: QTableWidget, rows: list[tuple]) -> None:
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            table.setItem(i, j, QTableWidgetItem(str(value)))


class RelativesPage(QWidget):
    """Declare a relative, see every declaration and the flagged enrolments."""

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.declarant, self.village = QLineEdit(), QLineEdit()
        self.relative, self.id_number, self.note = QLineEdit(), QLineEdit(), QLineEdit()
        self.id_number.setPlaceholderText("18位身份证号")
        self.role, self.relation = QComboBox(), QComboBox()
        for code, label in relatives.declarant_roles().items():
            self.role.addItem(label, code)
        for code, label in relatives.relations().items():
            self.relation.addItem(label, code)
        self.declare_button = QPushButton("备案")
        self.declare_button.clicked.connect(self.declare)
        box = QGroupBox("新增备案")
        form = QFormLayout(box)
        form.addRow("备案人姓名", self.declarant)
        form.addRow("备案人身份", self.role)
        form.addRow("所在村(居)", self.village)
        form.addRow("亲属姓名", self.relative)
        form.addRow("亲属身份证号", self.id_number)
        form.addRow("亲属关系", self.relation)
        form.addRow("备注", self.note)
        form.addRow(self.declare_button)

        self.declared = _table(
            ["编号", "备案人", "身份", "所在村", "亲属", "身份证号", "关系", "备案日期", "备注"]
        )
        self.withdraw_button = QPushButton("撤销所选备案")
        self.withdraw_button.clicked.connect(self.withdraw_selected)
        declared_tab = QWidget()
        v = QVBoxLayout(declared_tab)
        v.addWidget(self.declared)
        row = QHBoxLayout()
        row.addWidget(self.withdraw_button)
        row.addStretch()
        v.addLayout(row)

        self.flagged = _table(
            [
                "救助编号",
                "家庭编号",
                "村(居)",
                "户主",
                "保障对象",
                "身份证号",
                "类别",
                "状态",
                "备案人",
                "关系",
            ]
        )
        flagged_tab = QWidget()
        v = QVBoxLayout(flagged_tab)
        v.addWidget(QLabel("以下救助对象为工作人员或村干部的近亲属，县级须逐户入户核查。"))
        v.addWidget(self.flagged)

        self.tabs = QTabWidget()
        self.tabs.addTab(declared_tab, "备案名单")
        self.tabs.addTab(flagged_tab, "近亲属救助对象")
        layout = QHBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(self.tabs, 1)
        self.refresh()

    def refresh(self) -> None:
        rows = relatives.list_relatives(self.store)
        _fill(
            self.declared,
            [
                (
                    r.id,
                    r.declarant_name,
                    r.role_label,
                    r.declarant_village,
                    r.relative_name,
                    r.id_masked,
                    r.relation_label,
                    r.declared_on,
                    r.note,
                )
                for r in rows
            ],
        )
        flagged = [f.as_dict() for f in relatives.flagged_enrolments(self.store)]
        _fill(
            self.flagged,
            [
                (
                    f["enrolment_id"],
                    f["household_id"],
                    f["village"],
                    f["head_name"],
                    f["member_name"],
                    f["relative_id_masked"],
                    f["category_label"],
                    f["state_label"],
                    f["declarant_name"],
                    f["relation_label"],
                )
                for f in flagged
            ],
        )
        self.tabs.setTabText(1, f"近亲属救助对象（{len(flagged)}）")

    def _run(self, fn, *args) -> bool:
        return bool(ops.run(self, lambda: fn(*args), lambda _: self.refresh(), title=TITLE))

    def declare(self) -> bool:
        ok = self._run(
            relatives.declare,
            self.store,
            self.declarant.text(),
            self.role.currentData(),
            self.village.text(),
            self.relative.text(),
            self.id_number.text(),
            self.relation.currentData(),
            self.note.text(),
        )
        if ok:
            for w in (self.relative, self.id_number, self.note):
                w.clear()
        return ok

    def withdraw_selected(self) -> bool:
        row = self.declared.currentRow()
        if row < 0:
            return False
        return self._run(relatives.withdraw, self.store, int(self.declared.item(row, 0).text()))
