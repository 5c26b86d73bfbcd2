"""导出补贴清册: pick a month, a category (or all) and a file; the export runs in a worker."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ..models.categories import categories
from ..models.store import Store
from . import ops
from .saving import ask_save_path
from .worker import run_with_progress


class PaymentExportDialog(QDialog):
    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.task = None
        self.setWindowTitle("导出补贴清册")
        form = QFormLayout(self)
        today = QDate.currentDate()
        self.month = QDateEdit(QDate(today.year(), today.month(), 1))
        self.month.setDisplayFormat("yyyy年MM月")
        self.category = QComboBox()
        self.category.addItem("全部类别（每类一张表）", None)
        for code, cat in categories(store).items():  # the township's own too
            self.category.addItem(cat["name"], code)
        self.path = QLineEdit()
        browse = QPushButton("浏览…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("发放月份", self.month)
        form.addRow("救助类别", self.category)
        form.addRow("保存到", row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("导出")
        buttons.accepted.connect(self.start)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def month_date(self) -> dt.date:
        d = self.month.date()
        return dt.date(d.year(), d.month(), 1)

    def _browse(self) -> None:
        name = f"补贴清册-{self.month_date():%Y-%m}.xlsx"
        path = ask_save_path(self, "保存补贴清册", name, ".xlsx", "Excel")
        if path:
            self.path.setText(path)

    def start(self):
        from ..roster.exporter import export_payment_roster

        path = self.path.text().strip()
        if not path:
            ops.show_error(self, "导出补贴清册", "请选择保存位置。")
            return None
        month, category = self.month_date(), self.category.currentData()

        def job(store, progress, cancel):
            return export_payment_roster(
                store, month, path, category, progress=progress, cancel=cancel
            )

        def done(result) -> None:
            self.result_info = result
            self.accept()

        self.task = run_with_progress(self, "正在导出补贴清册…", self.store, job, on_done=done)
        return self.task
