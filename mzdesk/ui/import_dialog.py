"""花名册导入 dialog: choose a workbook, adjust the column mapping, read the check
report (sortable, exportable to xlsx), import in a worker with progress and
cancel, undo the last import.  All the work is done by :mod:`mzdesk.roster`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models.categories import categories
from ..models.store import Store
from ..roster.importer import problem_label
from ..roster.layout import fields
from . import file_dialogs, ops
from .import_values import UnknownValuesTable
from .saving import ask_save_path, save_reporting
from .screen_fit import fit_to_screen
from .worker import run_with_progress

PROBLEM_HEADERS = ("工作表", "行", "列", "原值", "问题", "处理", "说明")  # 说明 last: it stretches

SEVERITY = {
    "flag": "导入并标记待核实",
    "error": "须改正后才能导入",
    "skip": "该行保障记录暂不导入",
}
IGNORE = "(不导入)"


class ImportDialog(QDialog):
    """Roster import (花名册导入).  ``imported`` is emitted with the summary after an import."""

    imported = Signal(dict)

    def __init__(self, store: Store, parent: QWidget | None = None, path: str | None = None):
        super().__init__(parent)
        self.store = store
        self.report: dict | None = None
        self.task = None
        self.setWindowTitle("导入花名册")
        fit_to_screen(self, QSize(1240, 720))

        self.path_edit = QLineEdit(path or "")
        self.path_edit.setPlaceholderText("选择 .xlsx / .xls 花名册文件（可多选，一次导入）")
        self.path_edit.textEdited.connect(self._file_changed)
        browse = QPushButton("选择文件…")
        browse.clicked.connect(self.browse)
        top = QHBoxLayout()
        top.addWidget(QLabel("文件："))
        top.addWidget(self.path_edit, 1)
        top.addWidget(browse)

        self.mapping = QTableWidget(0, 4)
        self.mapping.setHorizontalHeaderLabels(["工作表", "列", "表头文字", "对应字段"])
        self.mapping.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.mapping.verticalHeader().setVisible(False)
        self.category = QComboBox()
        self.category.addItem("自动识别(表名/标题/救助类别列)", "")
        for code, cat in categories(store).items():
            self.category.addItem(cat["name"], code)

        self.problems = QStandardItemModel(0, len(PROBLEM_HEADERS), self)
        self.problems.setHorizontalHeaderLabels(PROBLEM_HEADERS)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.problems)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.problem_view = QTableView()
        self.problem_view.setModel(self.proxy)
        self.problem_view.setSortingEnabled(True)
        self.problem_view.horizontalHeader().setStretchLastSection(True)
        self.problem_view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)

        # unrecognised values, each once, with a combo to say what it means
        self.values_table = UnknownValuesTable()
        self.values_table.setMaximumHeight(190)
        self.values_label = QLabel(
            "无法识别的取值：选择它对应的值，再点“检查”（导入后按表头样式记住）"
        )
        self.chosen_values: dict[str, dict[str, dict[str, str]]] = {}

        self.summary = QLabel("请选择文件，然后点“检查”。检查不会写入任何数据。")
        self.summary.setWordWrap(True)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("列对应关系（可修改，导入后按表头样式记住）"))
        lv.addWidget(self.mapping)
        row = QHBoxLayout()
        row.addWidget(QLabel("救助类别："))
        row.addWidget(self.category, 1)
        lv.addLayout(row)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(QLabel("检查结果（点表头排序）"))
        rv.addWidget(self.problem_view, 1)
        rv.addWidget(self.values_label)
        rv.addWidget(self.values_table)
        self._show_values(False)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([360, 840])  # the problem table needs the width

        self.check_btn = QPushButton("检查")
        self.export_btn = QPushButton("导出问题清单…")
        self.import_btn = QPushButton("导入")
        self.undo_btn = QPushButton("撤销上次导入")
        close = QPushButton("关闭")
        self.check_btn.clicked.connect(self.check)
        self.export_btn.clicked.connect(self.export_problems)
        self.import_btn.clicked.connect(self.do_import)
        self.undo_btn.clicked.connect(lambda: self.undo_last())  # clicked(False) is no "confirm"
        close.clicked.connect(self.reject)
        for b in (browse, self.check_btn, self.export_btn, self.import_btn, self.undo_btn, close):
            b.setAutoDefault(False)  # Enter in the path box never opens the chooser
        self.check_btn.setDefault(True)  # it checks the file typed there
        buttons = QHBoxLayout()
        for b in (self.check_btn, self.export_btn, self.import_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.undo_btn)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- helpers -----------------------------------------------------------------------
    def _update_buttons(self) -> None:
        busy = self.task is not None and self.task.thread.isRunning()
        has_file = bool(self.path_edit.text().strip())
        self.check_btn.setEnabled(has_file and not busy)
        self.export_btn.setEnabled(bool(self.report and self.report["problems"]) and not busy)
        self.import_btn.setEnabled(bool(self.report) and not self.report["errors"] and not busy)

    def _show_values(self, shown: bool) -> None:
        self.values_label.setVisible(shown)
        self.values_table.setVisible(shown)

    def busy(self) -> bool:
        return self.task is not None and self.task.thread.isRunning()

    def path(self) -> str:
        """The (first) file chosen."""
        paths = self.paths()
        return paths[0] if paths else ""

    def paths(self) -> list[str]:
        """Every file chosen (several files are one import: "a.xlsx; b.xlsx")."""
        return [p.strip() for p in self.path_edit.text().split(";") if p.strip()]

    def overrides(self) -> dict:
        """The mapping as the clerk left it: {"sheets": {name: {"columns": ..., "category": ...}}}."""
        sheets: dict[str, dict] = {}
        for r in range(self.mapping.rowCount()):
            sheet = self.mapping.item(r, 0).text()
            letter = self.mapping.item(r, 1).text()
            combo = self.mapping.cellWidget(r, 3)
            spec = sheets.setdefault(sheet, {"columns": {}})
            spec["columns"][letter] = combo.currentData() or None
        cat = self.category.currentData()
        if cat:
            for spec in sheets.values():
                spec["category"] = cat
        self._merge_chosen_values()
        for sheet, values in self.chosen_values.items():
            if sheet in sheets and values:
                sheets[sheet]["values"] = values
        return {"sheets": sheets} if sheets else ({"category": cat} if cat else {})

    def _merge_chosen_values(self) -> None:
        """What the clerk picked in the values table, kept across checks."""
        for sheet, columns in self.values_table.values().items():
            for column, values in columns.items():
                self.chosen_values.setdefault(sheet, {}).setdefault(column, {}).update(values)

    def _file_changed(self) -> None:
        """Another file: its own header layout, so forget the mapping and the report."""
        self.mapping.setRowCount(0)
        self.problems.removeRows(0, self.problems.rowCount())
        self.values_table.fill([], {})
        self.chosen_values = {}
        self._show_values(False)
        self.report = None
        self._update_buttons()

    def browse(self) -> None:
        paths = file_dialogs.open_files(
            self,
            "roster",
            "选择花名册（可多选，如家庭查询和人员查询）",
            "Excel 工作簿 (*.xlsx *.xls)",
        )
        if paths:
            self.path_edit.setText("; ".join(paths))
            self._file_changed()
            self.check()

    # -- check (dry run) ------------------------------------------------------------------
    def check(self) -> None:
        path = self.paths()
        if not path:
            return
        mapping = (
            self.overrides()
            if self.mapping.rowCount()
            else (
                {"category": self.category.currentData()} if self.category.currentData() else None
            )
        )

        def job(store, progress, cancel):
            from ..roster.importer import analyse

            return analyse(store, path, mapping, progress=progress, cancel=cancel).report()

        self.summary.setText("正在检查…")
        self.task = run_with_progress(
            self,
            "检查花名册",
            self.store,
            job,
            on_done=self.show_report,
            on_error=self._failed,
            on_cancel=self._cancelled,
        )
        self._update_buttons()

    def show_report(self, report: dict) -> None:
        self.report = report
        self.fill_mapping(report["sheets"])
        self.problems.removeRows(0, self.problems.rowCount())
        for p in report["problems"]:
            values = (
                p["sheet"],
                p["row"],
                f"{p['column']}({p['column_letter']})",
                p["value"],
                problem_label(p["code"]),
                SEVERITY.get(p["severity"], p["severity"]),
                p["message"],
            )
            items = []
            for v in values:
                it = QStandardItem(str(v))
                it.setData(v, Qt.ItemDataRole.UserRole)
                items.append(it)
            items[4].setToolTip(p["code"])  # the code, for support
            items[6].setToolTip(p["message"])  # whole, however narrow the column
            self.problems.appendRow(items)
        self.problem_view.resizeColumnsToContents()  # full ID numbers and messages
        unknown = report.get("unknown_values", [])
        self.values_table.fill(unknown, self.chosen_values)
        self._show_values(bool(unknown))
        counts = "，".join(f"{problem_label(c)} {n}处" for c, n in report["problem_counts"].items())
        counts = counts or "没有问题"
        text = (
            f"{report['households']} 户 {report['members']} 人，月保障金合计 "
            f"{report['monthly_total']} 元；{counts}。"
        )
        if report["errors"]:
            text += f" 有 {report['errors']} 处必须先改正（改文件或改列对应后重新检查），不能导入。"
        else:
            text += (
                f" 导入将新增 {report['would_create']} 户，更新 {report['would_update']} 户，"
                f"{report['unchanged']} 户不变；身份证号有问题的成员按原样保存并标记待核实。"
            )
        if report.get("skipped_enrolments"):
            text += (
                f" 有 {report['skipped_enrolments']} 户的保障记录因取值无法识别或合计不符暂不导入"
                "（家庭照常导入；在下方指定取值后重新检查）。"
            )
        if report["skipped_sheets"]:
            text += f" 未识别为花名册的工作表：{'、'.join(report['skipped_sheets'])}。"
        self.summary.setText(text)
        self._update_buttons()

    def fill_mapping(self, sheets: list[dict]) -> None:
        self.mapping.setRowCount(0)
        choices = [(IGNORE, "")] + [(spec["label"], name) for name, spec in fields().items()]
        for s in sheets:
            for letter, col in s["columns"].items():
                r = self.mapping.rowCount()
                self.mapping.insertRow(r)
                for c, text in enumerate((s["sheet"], letter, col["header"])):
                    it = QTableWidgetItem(text)
                    it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    self.mapping.setItem(r, c, it)
                combo = QComboBox()
                for label, name in choices:
                    combo.addItem(label, name)
                combo.setCurrentIndex(max(0, combo.findData(col["field"])))
                self.mapping.setCellWidget(r, 3, combo)

    # -- export the report -------------------------------------------------------------
    def export_problems(self, path: str | None = None) -> None:
        if not self.report:
            return
        if not path:
            default = str(Path(self.path()).with_name(Path(self.path()).stem + "_检查结果.xlsx"))
            path = ask_save_path(self, "导出问题清单", default, ".xlsx", "Excel")
        if not path:
            return
        from ..roster.exporter import export_problems

        report = self.report
        n = save_reporting(self, "问题清单", path, lambda: export_problems(report, path))
        if n is not None:
            self.summary.setText(f"已导出问题清单 {n} 条：{path}")

    # -- import --------------------------------------------------------------------------
    def do_import(self, confirm: bool = True) -> None:
        if not self.report or self.report["errors"]:
            return
        if (
            confirm
            and QMessageBox.question(
                self,
                "导入花名册",
                f"导入 {self.report['households']} 户 {self.report['members']} 人？\n"
                "全部成功才写入；之后可以整体撤销。",
            )
            != QMessageBox.StandardButton.Yes
        ):
            return
        path, mapping = self.paths(), self.overrides()

        def job(store, progress, cancel):
            from ..roster.importer import import_roster

            return import_roster(store, path, mapping=mapping, progress=progress, cancel=cancel)

        self.summary.setText("正在导入…")
        self.task = run_with_progress(
            self,
            "导入花名册",
            self.store,
            job,
            on_done=self._imported,
            on_error=self._failed,
            on_cancel=self._cancelled,
        )
        self._update_buttons()

    def _imported(self, report: dict) -> None:
        self.report = None
        self.summary.setText(
            f"已导入（批次 {report['batch_id']}）：新增 {report['created']} 户，更新 "
            f"{report['updated']} 户，未变 {report['unchanged']} 户。"
        )
        self._update_buttons()
        self.imported.emit(report)

    def undo_last(self, confirm: bool = True) -> None:
        from ..roster.importer import batches, undo

        last = next((b for b in batches(self.store, 10) if b["state"] == "applied"), None)
        if last is None:
            self.summary.setText("没有可以撤销的导入")
            return
        if (
            confirm
            and QMessageBox.question(
                self,
                "撤销导入",
                f"撤销 {last['created_at']} 导入的“{last['file_name']}”？\n"
                "该次导入新增的家庭和成员将被注销，更新的内容恢复原样。",
            )
            != QMessageBox.StandardButton.Yes
        ):
            return
        done = ops.run(
            self,
            lambda: undo(self.store, last["id"]),
            on_error=lambda e: self._failed(e.code, str(e)),
        )
        if not done:
            return
        result = done.value
        self.summary.setText(
            f"已撤销导入批次 {result['batch_id']}，移除 {result['households_removed']} 户"
        )
        self.imported.emit({"undone": result["batch_id"]})

    def _failed(self, code: str, message: str) -> None:
        self.summary.setText(message)
        self._update_buttons()
        if not self.property("quiet"):
            ops.show_error(self, "导入花名册", message)

    def _cancelled(self) -> None:
        self.summary.setText("已取消，数据库没有任何改变")
        self._update_buttons()
