"""一次性发放: the list of one-off payment runs, with create (a FieldsDialog, checked before
it closes), confirm and 已发放 (each after a question), 作废 (with a reason) and the run's
清册 exported to a file chosen through ``ui/file_dialogs``.  Widgets hold no SQL: every
action is a service call (``models/payment_runs.py``, ``roster/run_roster.py``) through
``ops.run``."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import payment_runs as pr
from ..models.categories import categories
from ..models.money import format_fen, parse_assistance
from ..models.store import Store
from . import file_dialogs, ops
from .fields_dialog import FieldsDialog

COLUMNS = ("编号", "发放名称", "月份", "救助类别", "标准", "状态", "户数", "人数", "金额(元)")


class RunsPage(QWidget):
    """The runs, newest month first; the buttons act on the selected one."""

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.runs: list[dict] = []
        root = QVBoxLayout(self)
        root.addWidget(
            QLabel(
                "一次性发放（春节一次性生活补贴、价格临时补贴、冬春救助等）：发放对象按所选月份"
                "的补贴清册规则确定，确认后名单固定。"
            )
        )
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        root.addWidget(self.table, 1)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        root.addWidget(self.detail)
        row = QHBoxLayout()
        self.new_btn = QPushButton("新建发放…")
        self.confirm_btn = QPushButton("确认名单")
        self.paid_btn = QPushButton("登记已发放")
        self.void_btn = QPushButton("作废…")
        self.export_btn = QPushButton("导出清册(Excel)…")
        for b, slot in (
            (self.new_btn, self.create),
            (self.confirm_btn, self.confirm),
            (self.paid_btn, self.mark_paid),
            (self.void_btn, self.void),
            (self.export_btn, self.export),
        ):
            b.clicked.connect(slot)
            row.addWidget(b)
        row.addStretch(1)
        root.addLayout(row)
        self.refresh()

    # -- the list ---------------------------------------------------------------------
    def refresh(self, select: int | None = None) -> None:
        current = select if select is not None else self.selected_id()
        self.runs = [pr.summary(self.store, r.id) for r in pr.list_runs(self.store)]
        self.table.setRowCount(len(self.runs))
        for i, s in enumerate(self.runs):
            month = f"{int(s['month'][:4])}年{int(s['month'][5:])}月"
            rate = f"{s['basis_label']}{format_fen(s['rate_fen'])}元"
            values = (
                str(s["id"]),
                s["name"],
                month,
                s["category_names"],
                rate,
                s["state_label"],
                str(s["households"]),
                str(s["persons"]),
                format_fen(s["amount_fen"]),
            )
            for j, v in enumerate(values):
                item = QTableWidgetItem(v)
                if j in (0, 6, 7, 8):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(i, j, item)
            if s["id"] == current:
                self.table.selectRow(i)
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def selected(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.runs[rows[0].row()] if rows else None

    def selected_id(self) -> int | None:
        s = self.selected() if self.runs else None
        return s["id"] if s else None

    def _update_buttons(self) -> None:
        s = self.selected()
        state = s["state"] if s else ""
        self.confirm_btn.setEnabled(state == "draft")
        self.paid_btn.setEnabled(state == "confirmed")
        self.void_btn.setEnabled(state in ("draft", "confirmed"))
        self.export_btn.setEnabled(state in ("confirmed", "paid"))
        if s is None:
            self.detail.setText("")
            return
        parts = "；".join(
            f"{v['category_name']}{v['households']}户{v['persons']}人{format_fen(v['amount_fen'])}元"
            for v in s["by_category"].values()
        )
        fixed = "名单已固定" if s["frozen"] else "草拟：名单按当前数据计算，确认时固定"
        self.detail.setText(f"{pr.describe(s)}。{parts}。{fixed}。")

    # -- actions ----------------------------------------------------------------------
    def create_dialog(self) -> FieldsDialog:
        """The 新建发放 form (built apart so tests and screenshots can drive it)."""
        name = QComboBox()
        name.setEditable(True)
        name.addItems(pr.NAMES)
        today = QDate.currentDate()
        month = QDateEdit(QDate(today.year(), today.month(), 1))
        month.setDisplayFormat("yyyy年MM月")
        cats = QListWidget()
        for code, cat in categories(self.store).items():
            if cat.get("payment") != "monthly":
                continue
            item = QListWidgetItem(cat["name"])
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setCheckState(Qt.CheckState.Unchecked)
            cats.addItem(item)
        cats.setMaximumHeight(150)
        classes = QLineEdit()
        classes.setPlaceholderText("留空为全部；多个用、分隔，如：一类、二类")
        basis = QComboBox()
        for code, label in pr.BASES.items():
            basis.addItem(label, code)
        amount = QLineEdit()
        amount.setPlaceholderText("元，如 300")
        note = QLineEdit()

        def chosen() -> list[str]:
            return [
                cats.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(cats.count())
                if cats.item(i).checkState() == Qt.CheckState.Checked
            ]

        def action():
            d = month.date()
            wanted = [c.strip() for c in classes.text().replace(",", "、").split("、")]
            return pr.create_run(
                self.store,
                name.currentText(),
                dt.date(d.year(), d.month(), 1),
                chosen(),
                parse_assistance(amount.text(), "rate_fen"),
                basis.currentData(),
                [c for c in wanted if c],
                note.text(),
            )

        return FieldsDialog(
            "新建一次性发放",
            [
                ("name", "发放名称", name),
                ("month", "发放月份", month),
                ("categories", "救助类别", cats),
                ("classes", "类别档次", classes),
                ("basis", "发放标准", basis),
                ("rate_fen", "金额(元)", amount),
                ("note", "备注", note),
            ],
            self,
            action=action,
            on_done=lambda run: self.refresh(select=run.id),
            where={
                "name_required": "name",
                "run_exists": "name",
                "category_required": "categories",
                "category_not_paid": "categories",
                "unknown_category": "categories",
                "bad_amount": "rate_fen",
                "amount_too_large": "rate_fen",
                "bad_basis": "basis",
            },
        )

    def create(self) -> None:
        self.create_dialog().exec()

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "一次性发放", question)
        return answer == QMessageBox.StandardButton.Yes

    def confirm(self) -> None:
        s = self.selected()
        if s is None:
            return
        question = f"确认“{s['name']}”的名单？\n{pr.describe(s)}\n确认后名单固定，之后的修改不再影响本次发放。"
        if self._ask(question):
            ops.run(
                self,
                lambda: pr.confirm_run(self.store, s["id"]),
                lambda _r: self.refresh(),
                title="确认名单",
            )

    def mark_paid(self) -> None:
        s = self.selected()
        if s is None or not self._ask(f"登记“{s['name']}”已发放（今天）？"):
            return
        ops.run(
            self,
            lambda: pr.mark_paid(self.store, s["id"]),
            lambda _r: self.refresh(),
            title="登记已发放",
        )

    def void_dialog(self, run_id: int) -> FieldsDialog:
        reason = QLineEdit()
        return FieldsDialog(
            "作废一次性发放",
            [("reason", "作废原因", reason)],
            self,
            action=lambda: pr.void_run(self.store, run_id, reason.text()),
            on_done=lambda _r: self.refresh(),
            where={"reason_required": "reason", "run_state": "reason"},
            confirm="作废后不能恢复，确定作废？",
        )

    def void(self) -> None:
        s = self.selected()
        if s is not None:
            self.void_dialog(s["id"]).exec()

    def export(self) -> None:
        s = self.selected()
        if s is None:
            return
        path = file_dialogs.save_file(
            self, "run_roster", "保存发放清册", f"{s['name']}-{s['month']}.xlsx", "Excel (*.xlsx)"
        )
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        from ..roster.run_roster import export_run_roster

        ops.run(
            self,
            lambda: export_run_roster(self.store, s["id"], path),
            lambda res: self.detail.setText(
                f"已导出 {path}：{res['households']}户{res['persons']}人，"
                f"{format_fen(res['total_fen'])}元"
            ),
            title="导出清册",
        )
