"""The import dialog's table of unrecognised values (无法识别的取值): each distinct value
once, with its column, count and first row, and a combo to say what it means.  The
choices come from the check report (``unknown_values[].choices``); the table gives
back ``{"sheet": {"column": {"value": "meant"}}}`` for the mapping's ``values``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

VALUE_HEADERS = ("列", "文件中的值", "行数", "首见行", "对应为")
UNSET = "(未指定)"


class UnknownValuesTable(QTableWidget):
    """One row per unrecognised value; the last column's combo picks its meaning."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(VALUE_HEADERS), parent)
        self.setHorizontalHeaderLabels(VALUE_HEADERS)
        head = self.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(len(VALUE_HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.entries: list[dict] = []

    def fill(self, unknown: list[dict], chosen: dict[str, dict[str, dict[str, str]]]) -> None:
        """Show ``unknown`` (the report's ``unknown_values``), keeping what the clerk chose
        before (``chosen``: as :meth:`values`) for values still unrecognised."""
        self.setRowCount(0)
        self.entries = list(unknown)
        for r, u in enumerate(self.entries):
            self.insertRow(r)
            cells = (u["column"], u["value"], str(u["count"]), str(u["first_row"]))
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if c == 0 and u["sheet"]:
                    it.setToolTip(f"工作表：{u['sheet']}")
                self.setItem(r, c, it)
            combo = QComboBox()
            combo.addItem(UNSET, "")
            for choice in u["choices"]:
                combo.addItem(choice, choice)
            if not u["choices"]:  # free text, e.g. a month written oddly: 2019-03
                combo.setEditable(True)
                combo.lineEdit().setPlaceholderText("输入对应的值")
            before = chosen.get(u["sheet"], {}).get(u["column"], {}).get(u["value"], "")
            if before:
                i = combo.findData(before)
                if i >= 0:
                    combo.setCurrentIndex(i)
                elif combo.isEditable():
                    combo.setEditText(before)
            self.setCellWidget(r, len(VALUE_HEADERS) - 1, combo)

    def meaning(self, row: int) -> str:
        combo = self.cellWidget(row, len(VALUE_HEADERS) - 1)
        assert isinstance(combo, QComboBox)
        if combo.isEditable():
            text = combo.currentText().strip()
            return "" if text == UNSET else text
        return combo.currentData() or ""

    def choose(self, row: int, meant: str) -> None:
        """Pick ``meant`` for ``row`` (as the clerk does with the combo)."""
        combo = self.cellWidget(row, len(VALUE_HEADERS) - 1)
        assert isinstance(combo, QComboBox)
        i = combo.findData(meant)
        if i >= 0:
            combo.setCurrentIndex(i)
        else:
            combo.setEditText(meant)

    def values(self) -> dict[str, dict[str, dict[str, str]]]:
        """{sheet: {column header: {value: meant}}} for the values the clerk mapped."""
        out: dict[str, dict[str, dict[str, str]]] = {}
        for r, u in enumerate(self.entries):
            meant = self.meaning(r)
            if meant:
                out.setdefault(u["sheet"], {}).setdefault(u["column"], {})[u["value"]] = meant
        return out
