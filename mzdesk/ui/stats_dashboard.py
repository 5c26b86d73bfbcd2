"""月度统计 dashboard: the month's figures per category and village, a bar chart
of amounts by village, and export to .xlsx / PDF.  Figures come from
:func:`mzdesk.roster.monthly.monthly_stats` (the same rule as the 补贴清册).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models.categories import categories
from ..models.money import format_fen
from ..models.store import Store
from ..roster.monthly import (
    COLUMNS,
    month_label,
    monthly_categories,
    monthly_stats,
    summary_lines,
    table_rows,
    township_rows,
    township_totals,
)
from .background_refresh import Refresher
from .saving import ask_save_path, save_reporting, with_suffix

MONEY_COLS = {4, 5, 9}
CASE_HEADERS = ("临时救助、医疗救助", "人次", "金额(元)", "人均每人次(元)")
PALETTE = ("#3b7dd8", "#e0822d", "#3aa55d", "#c8414b", "#8a5cc2", "#5aa6b0", "#b5953b")


class BarChart(QWidget):
    """Horizontal bars: one per label, length by value; drawn with QPainter."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bars: list[tuple[str, int, str]] = []  # label, value (fen), colour
        self.setMinimumHeight(160)

    def set_bars(self, bars: list[tuple[str, int, str]]) -> None:
        self.bars = bars
        self.setMinimumHeight(max(160, 22 * len(bars) + 20))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        if not self.bars:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "本月没有发放数据")
            return
        label_w, value_w, top = 150, 90, 10
        width = max(10, self.width() - label_w - value_w - 20)
        high = max(v for _, v, _ in self.bars) or 1
        row_h = min(22, (self.height() - 2 * top) / len(self.bars))
        for i, (label, value, colour) in enumerate(self.bars):
            y = top + i * row_h
            p.setPen(QPen(QColor("#333")))
            p.drawText(
                QRectF(4, y, label_w - 8, row_h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            w = width * value / high
            p.fillRect(QRectF(label_w, y + 3, w, row_h - 6), QColor(colour))
            p.drawText(
                QRectF(label_w + w + 4, y, value_w, row_h),
                Qt.AlignmentFlag.AlignVCenter,
                format_fen(value),
            )
        p.end()


class StatsDashboard(QWidget):
    """Monthly statistics page (月度统计)."""

    def __init__(self, store: Store, parent: QWidget | None = None, month: dt.date | None = None):
        super().__init__(parent)
        self.store = store
        self.stats: dict | None = None
        month = month or dt.date.today().replace(day=1)
        self.month = QDateEdit(QDate(month.year, month.month, 1))
        self.month.setDisplayFormat("yyyy年MM月")
        self.month.setCalendarPopup(True)
        self.category = QComboBox()
        self.category.addItem("全部类别", "")
        known = categories(store)  # the township's own categories too
        for code in monthly_categories(store):
            self.category.addItem(known[code]["name"], code)
        self.xlsx_btn = QPushButton("导出Excel…")
        self.pdf_btn = QPushButton("导出PDF…")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("月份："))
        bar.addWidget(self.month)
        bar.addWidget(QLabel("类别："))
        bar.addWidget(self.category)
        bar.addStretch(1)
        bar.addWidget(self.xlsx_btn)
        bar.addWidget(self.pdf_btn)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = BarChart()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([h for _, h in COLUMNS])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        # 临时救助/医疗救助 paid this month (stats["cases"], models/cases.py)
        self.cases_table = QTableWidget(0, len(CASE_HEADERS))
        self.cases_table.setHorizontalHeaderLabels(list(CASE_HEADERS))
        self.cases_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.cases_table.verticalHeader().setVisible(False)
        self.cases_table.setFixedWidth(430)
        self.cases_table.setMaximumHeight(160)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        self.chart_title = QLabel("当月发放金额（元），按村(社区)")
        layout.addWidget(self.chart_title)
        charts = QHBoxLayout()
        charts.addWidget(self.chart, 1)
        charts.addWidget(self.cases_table, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(charts)
        layout.addWidget(self.table, 1)

        self.month.dateChanged.connect(self.refresh)
        self.category.currentIndexChanged.connect(self.refresh)
        self.xlsx_btn.clicked.connect(lambda: self.export("xlsx"))
        self.pdf_btn.clicked.connect(lambda: self.export("pdf"))
        # at a county the month's figures take seconds: a worker then (background_refresh)
        self.refresher = Refresher(self, store, "正在统计…", lambda _s: None, self._show_stats)
        self.refresh()

    def selected_month(self) -> dt.date:
        return self.month.date().toPython().replace(day=1)

    def refresh(self) -> None:
        month, category = self.selected_month(), self.category.currentData() or None
        self.refresher.refresh(lambda store: monthly_stats(store, month, category))

    def _show_stats(self, stats: dict) -> None:
        self.stats = stats
        # a county: by township (来源乡镇); village names repeat across townships
        towns = "by_township" in self.stats
        rows = township_rows(self.stats) if towns else table_rows(self.stats)
        self.table.horizontalHeaderItem(1).setText("乡镇" if towns else COLUMNS[1][1])
        self.chart_title.setText(f"当月发放金额（元），按{'乡镇' if towns else '村(社区)'}")
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, v in enumerate(values):
                text = format_fen(v) if c in MONEY_COLS else str(v)
                it = QTableWidgetItem(text)
                if c >= 2:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if values[1] == "小计" or values[0] == "合计":
                    f = it.font()
                    f.setBold(True)
                    it.setFont(f)
                self.table.setItem(r, c, it)
        self.table.resizeColumnsToContents()
        self._fill_cases(self.stats.get("cases", {}))
        lines = summary_lines(self.stats)
        self.summary.setText(
            "\n".join(lines) if lines else f"{month_label(self.stats)}没有在保对象"
        )
        cats = list(self.stats["totals"])
        if towns:
            self.chart.set_bars(
                [(n, fen, PALETTE[0]) for n, fen in township_totals(self.stats) if fen]
            )
            return
        bars = [
            (
                f"{r['village']} {r['category_name']}" if len(cats) > 1 else r["village"],
                r["monthly_fen"],
                PALETTE[cats.index(r["category"]) % len(PALETTE)],
            )
            for r in self.stats["rows"]
            if r["monthly_fen"]
        ]
        self.chart.set_bars(bars)

    def _fill_cases(self, figures: dict[str, dict[str, int]]) -> None:
        self.cases_table.setRowCount(len(figures))
        for r, (key, f) in enumerate(figures.items()):
            values = (key, str(f["count"]), format_fen(f["amount_fen"]), format_fen(f["avg_fen"]))
            for c, text in enumerate(values):
                it = QTableWidgetItem(text)
                if c:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.cases_table.setItem(r, c, it)
        self.cases_table.resizeColumnsToContents()

    def export(self, kind: str, path: str | None = None) -> str | None:
        if self.stats is None:
            return None
        suffix = f".{kind}"
        if not path:
            name = f"社会救助统计_{self.stats['month']}{suffix}"
            label = "PDF" if kind == "pdf" else "Excel"
            path = ask_save_path(self, "导出统计", name, suffix, label)
        if not path:
            return None
        path = with_suffix(path, suffix)
        from ..models.site import get_site

        site = get_site(self.store)
        township = site.name if site else ""
        stats = self.stats

        def write() -> str:
            if kind == "pdf":
                from ..roster.monthly import write_pdf

                write_pdf(stats, path, township)
            else:
                from ..roster.exporter import export_monthly_stats

                export_monthly_stats(stats, path, township)
            return path

        return save_reporting(self, f"统计{'PDF' if kind == 'pdf' else 'Excel'}", path, write)
