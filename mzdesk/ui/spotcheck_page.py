"""抽查: draw a reproducible spot-check sample, record it, list it, print and export it.

Parameters (share, seed, village, category, stratification) → 抽取 shows the sample
(:func:`mzdesk.models.spotcheck.draw_sample`: the same seed on the same households gives
the same sample, on any site) → 保存抽查 records it for tracking → 导出Excel (the list,
reports/spotcheck_xlsx.py) and 打印核查表 (one checklist per household, the existing
reports/checklist_pdf.py).  Saved spot checks are listed with their progress and can be
opened, exported and printed again.

Wiring: 入户核查 → 抽查 (ui/pages.py).
"""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models.categories import categories
from ..models.query import villages
from ..models.spotcheck import Sample, draw_sample, list_spot_checks, save_sample
from ..models.store import Store
from . import ops
from .saving import ask_save_path, save_reporting

COLUMNS = ("序号", "家庭编号", "户主", "村(社区)", "组", "分层", "核查情况")
STRATA = (("按村分层", "village"), ("按类别分层", "category"), ("不分层", ""))
SEED_MAX = 999_999


class SpotCheckPage(QWidget):
    """Draw → record → list → export / print a spot-check sample."""

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.sample: Sample | None = None
        self.done: dict[int, str] = {}
        self.percent = QSpinBox()
        self.percent.setRange(1, 100)
        self.percent.setValue(10)
        self.percent.setSuffix(" %")
        self.seed = QSpinBox()
        self.seed.setRange(0, SEED_MAX)
        self.seed.setValue(random.randint(1, SEED_MAX))
        self.seed.setToolTip("同一种子、同样的在册家庭，抽出同样的名单：请记下种子")
        new_seed = QPushButton("换一个")
        new_seed.setAutoDefault(False)
        new_seed.clicked.connect(lambda: self.seed.setValue(random.randint(1, SEED_MAX)))
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(new_seed)
        self.village = QComboBox()
        self.village.addItem("全部村(社区)", "")
        for v in villages(store):
            self.village.addItem(v, v)
        self.category = QComboBox()
        self.category.addItem("全部在册家庭", "")
        for code, cat in categories(store).items():
            self.category.addItem(f"{cat.get('name', code)}在保家庭", code)
        self.stratify = QComboBox()
        for label, value in STRATA:
            self.stratify.addItem(label, value)
        self.past = QComboBox()
        self.past.activated.connect(lambda i: self.open_saved(self.past.itemData(i)))

        form = QFormLayout()
        form.addRow("抽查比例", self.percent)
        form.addRow("随机种子", seed_row)
        form.addRow("范围", self.village)
        form.addRow("对象", self.category)
        form.addRow("分层", self.stratify)
        form.addRow("已保存的抽查", self.past)

        self.draw_btn = QPushButton("抽取")
        self.save_btn = QPushButton("保存抽查")
        self.xlsx_btn = QPushButton("导出Excel…")
        self.pdf_btn = QPushButton("打印核查表(PDF)…")
        self.draw_btn.clicked.connect(lambda: self.draw())
        self.save_btn.clicked.connect(lambda: self.save())
        self.xlsx_btn.clicked.connect(self._xlsx_clicked)
        self.pdf_btn.clicked.connect(self._pdf_clicked)
        buttons = QHBoxLayout()
        for b in (self.draw_btn, self.save_btn, self.xlsx_btn, self.pdf_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.status = QLabel()
        self.status.setWordWrap(True)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addLayout(form)
        lv.addStretch(1)
        left.setMaximumWidth(420)
        right = QVBoxLayout()
        right.addWidget(self.title)
        right.addWidget(self.table, 1)
        right.addLayout(buttons)
        right.addWidget(self.status)
        root = QHBoxLayout(self)
        root.addWidget(left)
        root.addLayout(right, 1)
        self.reload_saved()
        self._update_buttons()

    def _update_buttons(self) -> None:
        have = self.sample is not None
        self.save_btn.setEnabled(have and self.sample.id is None)
        self.xlsx_btn.setEnabled(have)
        self.pdf_btn.setEnabled(have)

    def reload_saved(self) -> None:
        self.past.clear()
        self.past.addItem("（选择以重新打开）", None)
        for s in list_spot_checks(self.store):
            self.past.addItem(
                f"{s['id']} {s['title']}（已核查{s['done']}/{s['total']}户）", s["id"]
            )

    # -- draw, save, open --------------------------------------------------------------
    def draw(self) -> Sample | None:
        """抽取: the sample for the parameters as set (nothing recorded yet)."""
        done = ops.run(
            self,
            lambda: draw_sample(
                self.store,
                self.percent.value(),
                self.seed.value(),
                self.village.currentData(),
                self.category.currentData(),
                self.stratify.currentData(),
            ),
            title="抽查",
        )
        if not done:
            return None
        self.show_sample(done.value, {})
        self.status.setText(
            f"已抽取{len(done.value.households)}户（共{done.value.population}户），尚未保存。"
            "保存后可跟踪入户核查进度。"
        )
        return done.value

    def save(self) -> int | None:
        """保存抽查: record the shown sample as a spot check to track."""
        if self.sample is None or self.sample.id is not None:
            return None
        done = ops.run(self, lambda: save_sample(self.store, self.sample), title="保存抽查")
        if not done:
            return None
        self.reload_saved()
        self.show_sample(done.value, {h["id"]: "待核查" for h in done.value.households})
        self.status.setText(f"已保存抽查{done.value.id}：{done.value.title}")
        return done.value.id

    def open_saved(self, spot_check_id: int | None) -> None:
        if spot_check_id is None:
            return
        from ..reports.spotcheck_xlsx import spot_check_sample

        done = ops.run(self, lambda: spot_check_sample(self.store, spot_check_id), title="抽查")
        if done:
            sample, progress = done.value
            self.show_sample(sample, progress)
            n = sum(1 for v in progress.values() if v == "已核查")
            self.status.setText(f"抽查{spot_check_id}：已核查{n}/{len(progress)}户")

    def show_sample(self, sample: Sample, done: dict[int, str]) -> None:
        self.sample, self.done = sample, done
        self.title.setText(
            sample.title + (f"  抽查编号{sample.id}" if sample.id else "  （未保存）")
        )
        from ..reports.spotcheck_xlsx import sample_rows

        rows = sample_rows(sample, done)
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                self.table.setItem(i, j, QTableWidgetItem(str(value)))
        self.table.resizeColumnsToContents()
        self._update_buttons()

    # -- output -----------------------------------------------------------------------
    def save_xlsx(self, path: str | Path) -> Path:
        from ..reports.spotcheck_xlsx import write_sample_xlsx

        assert self.sample is not None  # the button is disabled until a sample is shown
        return write_sample_xlsx(self.store, self.sample, path, self.done)

    def save_checklists(self, path: str | Path) -> int:
        """One checklist per drawn household (its latest visit, or blank) in one PDF."""
        from ..reports.checklist_pdf import CheckEntry, write_checklists

        assert self.sample is not None
        entries = [CheckEntry(h["id"]) for h in self.sample.households]
        return write_checklists(self.store, entries, path)

    def _name(self) -> str:
        s = self.sample
        return f"抽查{s.id}" if s and s.id else f"抽查名单-种子{s.seed if s else ''}"

    def _xlsx_clicked(self) -> None:
        path = ask_save_path(self, "导出抽查名单", f"{self._name()}.xlsx", ".xlsx", "Excel")
        if path and save_reporting(self, "抽查名单", path, lambda: self.save_xlsx(path)):
            self.status.setText(f"已导出 {path}")

    def _pdf_clicked(self) -> None:
        path = ask_save_path(self, "打印抽查核查表", f"{self._name()}-核查表.pdf", ".pdf", "PDF")
        if path and save_reporting(self, "抽查核查表", path, lambda: self.save_checklists(path)):
            self.status.setText(f"已保存核查表 {path}，可用PDF阅读器打印")
