"""Audit trail view (操作记录): latest changes, per household and per operator.

ID numbers are masked (``mask_id``) as everywhere outside the record itself;
the 校验 button recomputes the hash chain (``audit.verify``).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import audit
from ..models.auth import require
from ..models.errors import MzError
from ..models.store import Store
from . import ops

TABLE_LABELS = {
    "households": "家庭",
    "members": "成员",
    "enrolments": "救助",
    "visits": "走访",
    "care_booklets": "关爱簿",
    "followup_tasks": "跟进事项",
    "operators": "操作员",
    "site": "站点",
    "declared_relatives": "近亲属备案",
    "standards": "保障标准",
    "recoveries": "追缴与补发",
    "payment_runs": "一次性发放",
    "cases": "临时救助与医疗救助",
    "audit_findings": "篡改发现",
}
ACTION_LABELS = {"insert": "新增", "update": "修改", "delete": "删除"}


class AuditView(QWidget):
    def __init__(
        self,
        store: Store,
        parent: QWidget | None = None,
        household_id: int | None = None,
        limit: int = 1000,
    ):
        super().__init__(parent)
        self.store = store
        self.limit = limit
        self.household = QLineEdit("" if household_id is None else str(household_id))
        self.household.setPlaceholderText("家庭编号")
        self.operator = QComboBox()
        self.operator.addItem("全部操作员", None)
        for name in audit.operators(store.conn):
            self.operator.addItem(name or "（未知）", name)
        show, check = QPushButton("查询"), QPushButton("校验完整性")
        show.clicked.connect(self.refresh)
        check.clicked.connect(self.verify)
        self.household.returnPressed.connect(self.refresh)
        self.operator.currentIndexChanged.connect(self.refresh)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels(
            ["序号", "时间", "操作员", "对象", "操作", "字段", "原值 → 新值"]
        )
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        bar = QHBoxLayout()
        for w in (QLabel("家庭"), self.household, QLabel("操作员"), self.operator, show, check):
            bar.addWidget(w)
        bar.addStretch()
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        self.refresh()

    def _refused(self, exc: MzError) -> None:
        self.status.setText(exc.message)
        self.table.setRowCount(0)  # not the rows of the previous query under this message

    def refresh(self) -> None:
        if not ops.run(self, lambda: require(self.store, "audit.view"), on_error=self._refused):
            return
        text = self.household.text().strip()
        try:
            hid = int(text) if text else None
        except ValueError:
            self._refused(MzError(f"家庭编号应为数字：{text}"))
            return
        changes = audit.history(
            self.store.conn,
            household_id=hid,
            operator=self.operator.currentData(),
            limit=self.limit,
        )
        self.table.setRowCount(len(changes))
        for i, c in enumerate(changes):
            what = f"{c.old} → {c.new}" if c.action == "update" else (c.new or c.old or "")
            cells = (
                str(c.seq),
                c.at,
                c.operator,
                f"{TABLE_LABELS.get(c.table, c.table)}#{c.record_id}",
                ACTION_LABELS[c.action],
                c.field,
                what,
            )
            for j, t in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(t))
        self.status.setText(f"共 {len(changes)} 条")

    def verify(self) -> audit.VerifyResult:
        result = audit.verify(self.store.conn)
        self.status.setText(result.message())
        self.status.setStyleSheet("" if result.ok else "color: #b00020;")
        return result
