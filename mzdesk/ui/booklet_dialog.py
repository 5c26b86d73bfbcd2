"""Care booklet dialog (关爱簿): the typed parts of the booklet, save and print.

Household basics, members, policies and visits are printed from the records;
this dialog edits the rest (causes, needs, help measures, helper ...).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..models.booklets import Booklets
from ..models.consistency import booklet_prefill, with_prefill
from ..models.errors import MzError, ValidationError
from ..models.registry import Registry
from ..models.store import Store
from ..models.visits import household_members
from . import ops
from .form_widget import ERROR_STYLE, FormWidget
from .saving import AsksBeforeClosing, ask_save_path, save_reporting
from .screen_fit import fit_to_screen


class BookletDialog(AsksBeforeClosing, QDialog):
    unsaved_title = "未保存的关爱簿"
    unsaved_text = "关爱簿有未保存的修改。保存吗？"

    saved = Signal(int)  # booklet id

    def __init__(
        self,
        store: Store,
        household_id: int,
        parent: QWidget | None = None,
        today: dt.date | None = None,
    ):
        super().__init__(parent)
        self.store = store
        self.today = today or dt.date.today()
        self.booklets = Booklets(store)
        self.household = Registry(store).get(household_id)
        self.booklet = self.booklets.get(household_id)
        t = self.booklets.template(self.booklet)
        head = self.household.head
        self.setWindowTitle(f"关爱簿 — {head.name if head else ''} {self.household.village}")
        fit_to_screen(self, QSize(820, 720))
        self.form = FormWidget(t, household_members(store, household_id))
        # what the records know (户别, 致困原因) is carried over; typed answers win
        self.form.set_answers(
            with_prefill(self.booklet.answers, booklet_prefill(store, household_id))
        )
        self._saved_answers = repr(self.form.answers())
        self.summary = QLabel()
        self.summary.setStyleSheet(ERROR_STYLE)
        self.summary.setWordWrap(True)
        save, printb, close = (
            QPushButton("保存 (Ctrl+S)"),
            QPushButton("保存并打印…"),
            QPushButton("关闭"),
        )
        save.clicked.connect(self.save)
        printb.clicked.connect(self._print_clicked)
        close.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        for b in (printb, save, close):
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form, 1)
        layout.addLayout(row)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)

    def save(self) -> bool:
        self.booklet.answers = self.form.answers()
        if not ops.run(
            self, lambda: self.booklets.save(self.booklet, self.today), on_error=self._refused
        ):
            return False
        self.form.show_problems([])
        self.summary.setText("")
        self._saved_answers = repr(self.form.answers())
        self.saved.emit(self.booklet.id)
        return True

    def _refused(self, exc: MzError) -> None:
        if isinstance(exc, ValidationError):
            self.form.show_problems(exc.problems)
            self.summary.setText(f"有{len(exc.problems)}处需要修改：" + exc.problems[0].message)
        else:
            self.summary.setText(exc.message)

    def is_dirty(self) -> bool:
        return repr(self.form.answers()) != self._saved_answers

    def print_to(self, path: str | Path) -> int:
        from ..reports.booklet_pdf import write_booklets

        return write_booklets(self.store, [self.household.id], path, today=self.today)

    def _print_clicked(self) -> None:
        if not self.save():
            return
        path = ask_save_path(self, "保存PDF", f"关爱簿-{self.household.id}.pdf", ".pdf", "PDF")
        if path and save_reporting(self, "关爱簿", path, lambda: self.print_to(path)) is not None:
            QMessageBox.information(self, "打印", f"已生成 {path}")
