"""Cross-site duplicate report page (重复享受核查) of a county, city or province site.

Lists the ID numbers paid now at two or more origin sites (:mod:`mzdesk.models.duplicates`),
one row per site's claim, the ID masked; the workbook export (needs ``data.export``) writes
the same rows.  Wiring: ``ui/pages.py`` adds the page for sites above a township.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models.duplicates import Claim, Duplicate, category_names, duplicate_report
from ..models.ids import mask_id
from ..models.origins import own_site
from ..models.store import Store
from . import ops
from .saving import ask_save_path, save_reporting, with_suffix

HEADERS = ("序号", "身份证号", "姓名", "来源站点", "村(社区)", "户主", "享受类别", "状态")
SET_ASIDE = "导入时暂未采用"
HERE = "本站在册"


class DuplicatesPage(QWidget):
    """重复享受核查: who is paid at two or more sites, and where."""

    def __init__(self, store: Store, parent: QWidget | None = None, lazy: bool = False):
        super().__init__(parent)
        self.store = store
        self.report: list[Duplicate] = []
        self.names = category_names(store)
        self.own = own_site(store)
        self.category = QComboBox()
        self.category.addItem("全部类别", "")
        for code, name in self.names.items():
            self.category.addItem(name, code)
        self.refresh_btn = QPushButton("重新核查")
        self.xlsx_btn = QPushButton("导出Excel…")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("类别："))
        bar.addWidget(self.category)
        bar.addStretch(1)
        bar.addWidget(self.refresh_btn)
        bar.addWidget(self.xlsx_btn)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        note = QLabel(
            "同一身份证号在两个及以上来源站点（乡镇）同时在保：请核实后由相关乡镇停发其一。"
            "“导入时暂未采用”为后到站点的记录（数据交换中的“可能重复享受”冲突）。"
        )
        note.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(note)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.refresh_btn.clicked.connect(self.refresh)
        self.category.currentIndexChanged.connect(self.refresh)
        self.xlsx_btn.clicked.connect(lambda: self.export())
        if not lazy:
            self.refresh()

    def refresh(self) -> None:
        category = self.category.currentData() or None
        ops.run(
            self, lambda: duplicate_report(self.store, category), self._show, title="重复享受核查"
        )

    def _show(self, report: list[Duplicate]) -> None:
        self.report = report
        rows = []
        for i, d in enumerate(report, start=1):
            for c in d.claims:
                rows.append(
                    [
                        str(i),
                        mask_id(d.id_number),
                        c.name,
                        self._origin(c),
                        c.village,
                        c.head_name,
                        "、".join(self.names.get(x, x) for x in c.categories),
                        SET_ASIDE if c.set_aside else HERE,
                    ]
                )
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for col, text in enumerate(values):
                it = QTableWidgetItem(text)
                if col == 0:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, it)
        self.table.resizeColumnsToContents()
        sites = len({s for d in report for s in d.sites})
        self.summary.setText(
            f"共 {len(report)} 人可能重复享受，涉及 {sites} 个站点"
            if report
            else "未发现重复享受：没有身份证号在两个及以上站点同时在保"
        )
        self.xlsx_btn.setEnabled(bool(report))

    def _origin(self, c: Claim) -> str:
        """The origin township, and at a city or province the county that forwarded it."""
        text = f"{c.site_name}（{c.site}）"
        if c.via not in ("", c.site, self.own):
            text += f"，经{c.via_name}转报"
        return text

    def export(self, path: str | None = None) -> str | None:
        if not self.report:
            return None
        if not path:
            path = ask_save_path(
                self, "导出重复享受核查表", "重复享受核查表.xlsx", ".xlsx", "Excel"
            )
        if not path:
            return None
        path = with_suffix(path, ".xlsx")
        report, names = self.report, self.names

        def write() -> str:
            from ..reports.duplicates_xlsx import write_duplicates_xlsx

            write_duplicates_xlsx(self.store, report, names, path)
            return path

        return save_reporting(self, "重复享受核查表", path, write)
