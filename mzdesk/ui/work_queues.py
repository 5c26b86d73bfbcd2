"""Work queues (工作台) by lifecycle state: 待调查, 待公示, 公示中, 待审核, 在保, 复核到期,
and 办理时限 (the working-day clocks due or overdue, :mod:`mzdesk.models.clocks`).

Each tab lists the enrolments in one queue (from :func:`mzdesk.models.work_queues.queue`);
double-clicking a row emits ``householdActivated(household_id)`` so the main
window can open that household (its enrolment panel).

Wiring: a tab or page "工作台" → ``WorkQueues(store)``; connect
``householdActivated`` to the household dialog.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QTableView, QTabWidget, QVBoxLayout, QWidget

from ..models import work_queues as wq
from ..models.money import format_fen
from ..models.store import Store
from .background_refresh import Refresher
from .rows_model import RowsModel

HEADERS = ("编号", "村组", "姓名", "类别", "状态", "保障人口", "金额(元)", "申请日期", "复核到期")
# the 办理时限 tab (models/clocks.py): what is due or overdue, with the working days left
DEADLINES = "deadlines"
DEADLINE_HEADERS = (
    "编号",
    "村组",
    "姓名",
    "类别",
    "状态",
    "办理事项",
    "起算日",
    "到期日",
    "剩余工作日",
    "时限状态",
)


class WorkQueues(QWidget):
    householdActivated = Signal(int)

    def __init__(
        self,
        store: Store,
        parent: QWidget | None = None,
        today: dt.date | None = None,
        lazy: bool = False,
    ):
        super().__init__(parent)
        self.store = store
        self.today = today
        self.tabs = QTabWidget()
        self.tables: dict[str, QTableView] = {}
        self.models: dict[str, RowsModel] = {}
        self.rows: dict[str, list[dict]] = {}
        for key in wq.QUEUES:
            t = QTableView()
            t.setModel(RowsModel(HEADERS, t))
            t.verticalHeader().setVisible(False)
            t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            t.horizontalHeader().setStretchLastSection(True)
            t.doubleClicked.connect(lambda index, key=key: self._activated(key, index.row()))
            self.tables[key] = t
            self.models[key] = t.model()
            self.rows[key] = []
            self.tabs.addTab(t, wq.QUEUES[key])
        self._add_deadlines_tab()
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        # at a county the queues take seconds: loaded in a worker then (background_refresh)
        self.refresher = Refresher(self, store, "正在读取工作队列…", self._load, self._show)
        if not lazy:  # lazy: the main window refreshes the page when it is shown
            self.refresh()

    def _load(self, store: Store) -> dict[str, list[dict]]:
        """Every queue's rows and the deadlines (办理时限), from ``store`` (a worker's own)."""
        out = {key: wq.queue(store, key, today=self.today) for key in wq.QUEUES}
        out[DEADLINES] = wq.deadlines(store, self.today, "due")  # overdue first, then soon
        return out

    def refresh(self) -> None:
        self.refresher.refresh()

    def _show(self, loaded: dict[str, list[dict]]) -> None:
        for i, key in enumerate(wq.QUEUES):
            rows = loaded[key]
            self.rows[key] = rows
            self.models[key].set_rows(
                [
                    (
                        r["id"],
                        f"{r['village']}{r['village_group']}",
                        r["name"],
                        f"{r['category_name']} {r['cls']}".strip(),
                        r["state_name"],
                        r["covered"],
                        format_fen(r["monthly_fen"]),
                        r["applied_on"],
                        r["review_due"],
                    )
                    for r in rows
                ]
            )
            self.tabs.setTabText(i, f"{wq.QUEUES[key]} ({len(rows)})")
        self._show_deadlines(loaded[DEADLINES])

    def _add_deadlines_tab(self) -> None:
        t = QTableView()
        t.setModel(RowsModel(DEADLINE_HEADERS, t))
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.horizontalHeader().setStretchLastSection(True)
        t.doubleClicked.connect(lambda index: self._activated(DEADLINES, index.row()))
        self.tables[DEADLINES], self.models[DEADLINES] = t, t.model()
        self.rows[DEADLINES] = []
        self.tabs.addTab(t, "办理时限")

    def _show_deadlines(self, rows: list[dict]) -> None:
        self.rows[DEADLINES] = rows
        self.models[DEADLINES].set_rows(
            [
                (
                    r["enrolment_id"],
                    f"{r['village']}{r['village_group'] or ''}",
                    r["name"],
                    r["category_name"],
                    r["state_name"],
                    r["clock_label"] + ("（已延期）" if r["extended"] else ""),
                    r["start_on"],
                    r["due_on"],
                    r["days_left"],
                    r["status_label"],
                )
                for r in rows
            ]
        )
        overdue = sum(r["status"] == "overdue" for r in rows)
        index = self.tabs.indexOf(self.tables[DEADLINES])
        self.tabs.setTabText(index, f"办理时限 ({overdue}超期/{len(rows)})")

    def count(self, key: str) -> int:
        return len(self.rows[key])

    def _activated(self, key: str, row: int) -> None:
        self.householdActivated.emit(self.rows[key][row]["household_id"])
