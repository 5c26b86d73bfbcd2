"""Visits and follow-up tasks in the GUI.

* :class:`VisitsPanel` — one household: its visits (open, add) and its
  follow-up tasks (close with a note); buttons for the booklet and a blank
  checklist.
* :class:`TodayVisitsView` — for field staff (今日入户): visits recorded
  today, households still to re-visit in open spot checks, open tasks.
* :class:`VillagePrintDialog` — booklets or checklists of a whole village into
  one PDF, in a worker with progress and cancel.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models.query import villages
from ..models.spotcheck import pending_spot_checks
from ..models.store import Store
from ..models.visits import TASK_KINDS, VISIT_KINDS, Visits, close_task, list_tasks
from . import file_dialogs, ops
from .saving import ask_save_path, save_reporting
from .worker import run_with_progress


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    t.verticalHeader().hide()
    return t


def _fill(t: QTableWidget, rows: list[tuple[object, list[str]]]) -> None:
    """Rows of (key kept in UserRole of column 0, cell texts)."""
    t.setRowCount(len(rows))
    for r, (key, cells) in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c == 0:
                item.setData(Qt.ItemDataRole.UserRole, key)
            t.setItem(r, c, item)


def _selected_key(t: QTableWidget):
    r = t.currentRow()
    item = t.item(r, 0) if r >= 0 else None
    return item.data(Qt.ItemDataRole.UserRole) if item else None


class VisitsPanel(QWidget):
    """Visit list and task list of one household (for a tab of the household dialog)."""

    changed = Signal()

    def __init__(
        self,
        store: Store,
        household_id: int,
        parent: QWidget | None = None,
        today: dt.date | None = None,
    ):
        super().__init__(parent)
        self.store = store
        self.household_id = household_id
        self.today = today or dt.date.today()
        self.visits_table = _table(["日期", "类型", "调查人员", "结论", "户代表确认", "表单版本"])
        self.visits_table.doubleClicked.connect(lambda *_: self.open_selected())
        self.tasks_table = _table(["状态", "事项", "说明", "提出日期", "处理情况"])
        add, open_, booklet, blank = (
            QPushButton("新增入户记录…"),
            QPushButton("打开"),
            QPushButton("关爱簿…"),
            QPushButton("打印空白核查表…"),
        )
        add.clicked.connect(self.add_visit)
        open_.clicked.connect(self.open_selected)
        booklet.clicked.connect(self.open_booklet)
        blank.clicked.connect(self._print_blank)
        close = QPushButton("完成选中事项…")
        close.clicked.connect(self._close_clicked)
        vrow = QHBoxLayout()
        for b in (add, open_, booklet, blank):
            vrow.addWidget(b)
        vrow.addStretch(1)
        vbox = QGroupBox("入户记录")
        vl = QVBoxLayout(vbox)
        vl.addWidget(self.visits_table)
        vl.addLayout(vrow)
        tbox = QGroupBox("跟进事项")
        tl = QVBoxLayout(tbox)
        tl.addWidget(self.tasks_table)
        trow = QHBoxLayout()
        trow.addWidget(close)
        trow.addStretch(1)
        tl.addLayout(trow)
        layout = QVBoxLayout(self)
        layout.addWidget(vbox, 3)
        layout.addWidget(tbox, 2)
        self.dialog = None
        self.refresh()

    def refresh(self) -> None:
        visits = Visits(self.store).for_household(self.household_id)
        _fill(
            self.visits_table,
            [
                (
                    v.id,
                    [
                        v.visit_date.isoformat(),
                        VISIT_KINDS.get(v.kind, v.kind),
                        "、".join(v.investigators),
                        v.conclusion,
                        v.representative if v.acknowledged else "未确认",
                        f"v{v.template_version}",
                    ],
                )
                for v in visits
            ],
        )
        tasks = list_tasks(self.store, self.household_id, state=None)
        _fill(
            self.tasks_table,
            [
                (
                    t["id"],
                    [
                        "未完成" if t["state"] == "open" else "已完成",
                        f"{t['title']}（{TASK_KINDS.get(t['kind'], t['kind'])}）",
                        t["detail"],
                        t["created_at"][:10],
                        t["close_note"],
                    ],
                )
                for t in tasks
            ],
        )

    def add_visit(self):
        return self._open_dialog(None)

    def open_selected(self):
        vid = _selected_key(self.visits_table)
        return self._open_dialog(vid) if vid is not None else None

    def _open_dialog(self, visit_id):
        from .visit_dialog import VisitDialog

        self.dialog = VisitDialog(self.store, self.household_id, visit_id, self, self.today)
        self.dialog.saved.connect(lambda *_: (self.refresh(), self.changed.emit()))
        self.dialog.show()
        return self.dialog

    def open_booklet(self):
        from .booklet_dialog import BookletDialog

        self.dialog = BookletDialog(self.store, self.household_id, self, self.today)
        self.dialog.show()
        return self.dialog

    def _print_blank(self) -> None:
        from ..reports.checklist_pdf import CheckEntry, write_checklists

        path = ask_save_path(self, "保存PDF", f"空白核查表-{self.household_id}.pdf", ".pdf", "PDF")
        if path:
            entries = [CheckEntry(self.household_id)]
            save_reporting(
                self, "空白核查表", path, lambda: write_checklists(self.store, entries, path)
            )

    def close_selected(self, note: str) -> bool:
        """Close the selected open task with ``note``; False (and a message) if refused."""
        tid = _selected_key(self.tasks_table)
        if tid is None:
            return False
        return bool(
            ops.run(self, lambda: close_task(self.store, tid, note), self._closed, title="跟进事项")
        )

    def _closed(self, _result: object) -> None:
        self.refresh()
        self.changed.emit()

    def _close_clicked(self) -> None:
        note, ok = QInputDialog.getText(self, "完成事项", "处理情况：")
        if ok:
            self.close_selected(note)


class TodayVisitsView(QWidget):
    """今日入户: what a field worker does today (no network needed)."""

    def __init__(self, store: Store, parent: QWidget | None = None, today: dt.date | None = None):
        super().__init__(parent)
        self.store = store
        self.today = today or dt.date.today()
        self.title = QLabel()
        self.done_table = _table(["家庭编号", "户主", "村(社区)/组", "类型", "调查人员", "结论"])
        self.todo_table = _table(["家庭编号", "户主", "村(社区)/组", "抽查"])
        self.tasks_label = QLabel()
        start = QPushButton("开始入户（抽查复核）…")
        start.clicked.connect(self.start_selected)
        refresh = QPushButton("刷新")
        refresh.clicked.connect(self.refresh)
        row = QHBoxLayout()
        row.addWidget(start)
        row.addWidget(refresh)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(QLabel("今日已入户"))
        layout.addWidget(self.done_table, 1)
        layout.addWidget(QLabel("待抽查复核的家庭"))
        layout.addWidget(self.todo_table, 1)
        layout.addLayout(row)
        layout.addWidget(self.tasks_label)
        self.dialog = None
        self.refresh()

    def refresh(self) -> None:
        done = Visits(self.store).on_day(self.today)
        import json

        _fill(
            self.done_table,
            [
                (
                    r["household_id"],
                    [
                        str(r["household_id"]),
                        r["head_name"],
                        r["village"] + r["village_group"],
                        VISIT_KINDS.get(r["kind"], r["kind"]),
                        "、".join(json.loads(r["investigators"])),
                        r["conclusion"],
                    ],
                )
                for r in done
            ],
        )
        todo = pending_spot_checks(self.store)
        _fill(
            self.todo_table,
            [
                (
                    r["household_id"],
                    [
                        str(r["household_id"]),
                        r["head_name"],
                        r["village"] + r["village_group"],
                        r["title"],
                    ],
                )
                for r in todo
            ],
        )
        n_tasks = len(list_tasks(self.store))
        self.title.setText(
            f"今日入户 {self.today.isoformat()}：已入户 {len(done)} 户，待抽查 {len(todo)} 户"
        )
        self.tasks_label.setText(f"未完成跟进事项 {n_tasks} 项")

    def start_selected(self):
        from .visit_dialog import VisitDialog

        hid = _selected_key(self.todo_table)
        if hid is None:
            return None
        self.dialog = VisitDialog(self.store, hid, None, self, self.today, kind="spot_check")
        self.dialog.saved.connect(lambda *_: self.refresh())
        self.dialog.show()
        return self.dialog


class VillagePrintDialog(QDialog):
    """Batch printing for a whole village into one PDF, with progress and cancel."""

    KINDS = {"booklet": "关爱簿", "blank": "空白核查表", "filled": "已填核查表（最近一次入户）"}

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("按村批量打印")
        self.village_box = QComboBox()
        self.village_box.addItems(villages(store))
        self.kind_box = QComboBox()
        for code, name in self.KINDS.items():
            self.kind_box.addItem(name, code)
        self.out_edit = QLineEdit()
        browse = QPushButton("选择…")
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)
        self.status = QLabel()
        self.start_button = QPushButton("开始打印")
        self.start_button.clicked.connect(self.start)
        form = QFormLayout(self)
        form.addRow("村(社区)", self.village_box)
        form.addRow("内容", self.kind_box)
        form.addRow("保存到", out_row)
        form.addRow(self.status)
        form.addRow(self.start_button)
        self.task = None
        self.result = None

    def _browse(self) -> None:
        path = file_dialogs.save_file(self, "export", "保存PDF", "", "PDF (*.pdf)")
        if path:
            self.out_edit.setText(path)

    def start(self):
        """Run the batch in a worker thread; returns the running task."""
        village, kind, out = (
            self.village_box.currentText(),
            self.kind_box.currentData(),
            self.out_edit.text().strip(),
        )
        if not village or not out:
            self.status.setText("请选择村(社区)和保存位置")
            return None

        def job(store, progress, cancel):
            from ..reports.booklet_pdf import village_household_ids, write_booklets
            from ..reports.checklist_pdf import CheckEntry, write_checklists

            ids = village_household_ids(store, village)
            if kind == "booklet":
                return write_booklets(store, ids, out, progress=progress, cancel=cancel)
            entries = [CheckEntry(i) for i in ids] if kind == "blank" else ids
            return write_checklists(store, entries, out, progress=progress, cancel=cancel)

        self.start_button.setEnabled(False)
        self.status.setText("正在生成…")
        self.task = run_with_progress(
            self,
            f"打印{self.KINDS[kind]}",
            self.store,
            job,
            on_done=self._done,
            on_error=self._error,
            on_cancel=self._cancelled,
        )
        return self.task

    def _done(self, pages) -> None:
        self.result = pages
        self.start_button.setEnabled(True)
        self.status.setText(f"已生成 {self.out_edit.text()}，共 {pages} 页")

    def _error(self, code: str, message: str) -> None:
        self.start_button.setEnabled(True)
        self.status.setText(f"失败：{message}")

    def _cancelled(self) -> None:
        self.start_button.setEnabled(True)
        self.status.setText("已取消，未生成文件")
