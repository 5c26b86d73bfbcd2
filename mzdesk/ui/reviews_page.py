"""The office's calendar page (复核与核查): the yearly round, survival checks, review plans
and the county's 民主评议 setting.

Three tabs over :mod:`mzdesk.models.reviews`, :mod:`mzdesk.models.survival` and
:mod:`mzdesk.models.notice_rules`; every step is a :class:`FieldsDialog` (checked before it
closes).  Double-clicking a row emits ``householdActivated(household_id)``.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..models import notice_rules as nr
from ..models import reviews, survival
from ..models.dates import current_day
from ..models.errors import NotFound
from ..models.site import get_site
from ..models.store import Store
from .fields_dialog import FieldsDialog
from .rows_model import RowsModel

ROUND_HEADERS = ("编号", "村组", "姓名", "类别", "状态", "核查结果", "复核日期")
SURVIVAL_HEADERS = ("编号", "村组", "姓名", "档次", "认证期", "截止日期", "上次认证")


def _table(headers: tuple[str, ...]) -> QTableView:
    t = QTableView()
    t.setModel(RowsModel(headers, t))
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def _combo(items: dict[str, str], current: str | None = None) -> QComboBox:
    c = QComboBox()
    for code, label in items.items():
        c.addItem(label, code)
    if current is not None:
        c.setCurrentIndex(max(0, c.findData(current)))
    return c


def _date(today: dt.date) -> QLineEdit:
    w = QLineEdit(today.isoformat())
    w.setPlaceholderText("2026-03-01")
    return w


class ReviewsPage(QWidget):
    householdActivated = Signal(int)

    def __init__(self, store: Store, parent: QWidget | None = None, today: dt.date | None = None):
        super().__init__(parent)
        self.store = store
        self.today = today
        self.round: dict | None = None
        self.round_rows: list[dict] = []
        self.due_rows: list[dict] = []
        self.proposal_rows: list[dict] = []
        self.tabs = QTabWidget()
        self.tabs.addTab(self._round_tab(), "年度全面核查")
        self.tabs.addTab(self._survival_tab(), "生存认证")
        self.tabs.addTab(self._settings_tab(), "复核周期与民主评议")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self.refresh()

    def _day(self) -> dt.date:
        return self.today or current_day()

    # -- building ------------------------------------------------------------------------
    def _round_tab(self) -> QWidget:
        w = QWidget()
        box = QVBoxLayout(w)
        self.round_label = QLabel()
        self.round_label.setWordWrap(True)
        row = QHBoxLayout()
        self.open_btn = QPushButton("开启年度核查…")
        self.open_btn.clicked.connect(self.open_round)
        self.close_btn = QPushButton("结束核查…")
        self.close_btn.clicked.connect(self.close_round)
        self.pending_only = QCheckBox("只看未复核")
        self.pending_only.toggled.connect(lambda _on: self._fill_round())
        for x in (self.open_btn, self.close_btn, self.pending_only):
            row.addWidget(x)
        row.addStretch(1)
        self.round_table = _table(ROUND_HEADERS)
        self.round_table.doubleClicked.connect(
            lambda i: self._activated(self._shown_round()[i.row()])
        )
        box.addWidget(self.round_label)
        box.addLayout(row)
        box.addWidget(self.round_table)
        return w

    def _survival_tab(self) -> QWidget:
        w = QWidget()
        box = QVBoxLayout(w)
        self.survival_label = QLabel()
        row = QHBoxLayout()
        self.record_btn = QPushButton("登记生存认证…")
        self.record_btn.clicked.connect(self.record_check)
        row.addWidget(self.record_btn)
        row.addStretch(1)
        self.due_table = _table(SURVIVAL_HEADERS)
        self.due_table.doubleClicked.connect(lambda i: self._activated(self.due_rows[i.row()]))
        self.proposal_label = QLabel()
        self.proposal_table = _table(SURVIVAL_HEADERS)
        self.proposal_table.doubleClicked.connect(
            lambda i: self._activated(self.proposal_rows[i.row()])
        )
        row2 = QHBoxLayout()
        self.stop_btn = QPushButton("确认停发…")
        self.stop_btn.clicked.connect(self.confirm_stop)
        row2.addWidget(self.stop_btn)
        row2.addStretch(1)
        for x in (self.survival_label,):
            box.addWidget(x)
        box.addLayout(row)
        box.addWidget(self.due_table, 3)
        box.addWidget(self.proposal_label)
        box.addLayout(row2)
        box.addWidget(self.proposal_table, 2)
        return w

    def _settings_tab(self) -> QWidget:
        w = QWidget()
        box = QVBoxLayout(w)
        self.mode_label = QLabel()
        self.mode_label.setWordWrap(True)
        self.mode_btn = QPushButton("民主评议设置…")
        self.mode_btn.clicked.connect(self.set_mode)
        site = get_site(self.store)
        if site is None or site.role != "county":  # a county decision, received in sync
            self.mode_btn.setEnabled(False)
            self.mode_btn.setToolTip("民主评议设置由县民政局设定，随数据交换下发")
        levels = "；".join(
            f"{v['label']}每{v['months']}个月" for v in reviews.stability_levels().values()
        )
        plan_help = QLabel(
            f"家庭复核周期按家庭情况稳定程度设置（{levels}，也可自定月数）；"
            "未设置的家庭按救助类别的复核周期。设置后，该户在保记录的下次复核日期随之调整。"
        )
        plan_help.setWordWrap(True)
        self.plan_btn = QPushButton("设置家庭复核周期…")
        self.plan_btn.clicked.connect(self.set_plan)
        self.flag_btn = QPushButton("标记需民主评议…")
        self.flag_btn.clicked.connect(self.flag)
        for parts in (
            (self.mode_label,),
            (self.mode_btn, self.flag_btn),
            (plan_help,),
            (self.plan_btn,),
        ):
            row = QHBoxLayout()
            for x in parts:
                row.addWidget(x, 1 if isinstance(x, QLabel) else 0)
            if not isinstance(parts[0], QLabel):
                row.addStretch(1)
            box.addLayout(row)
        box.addStretch(1)
        return w

    # -- showing ---------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            self.round = reviews.round_status(self.store)
        except NotFound:
            self.round = None
        self._fill_round()
        day = self._day()
        period = survival.period_of(day)
        self.due_rows = survival.due(self.store, period, day)
        self.proposal_rows = survival.stop_proposals(self.store, today=day)
        self._fill(self.due_table, self.due_rows)
        self._fill(self.proposal_table, self.proposal_rows)
        deadline = survival.bounds(period)[2]
        self.survival_label.setText(
            f"本期（{period}）截止{deadline}，尚未认证{len(self.due_rows)}人。双击一行打开该户。"
        )
        self.proposal_label.setText(
            f"停发建议（上一认证期已过截止日期仍未认证）：{len(self.proposal_rows)}人。"
            "确认后从下月起停发，并列入下次停发公示。"
        )
        self.stop_btn.setEnabled(bool(self.proposal_rows))
        mode = nr.deliberation_mode(self.store)
        self.mode_label.setText(
            f"民主评议（县级设置，随数据交换下发到乡镇）：{nr.DELIBERATION_MODES[mode]}。"
            "视情评议时，只有标记为“需民主评议”的记录（入户调查时或在此标记）须经评议后才能公示。"
        )

    def _shown_round(self) -> list[dict]:
        if self.pending_only.isChecked():
            return [r for r in self.round_rows if r["result"] == "pending"]
        return self.round_rows

    def _fill_round(self) -> None:
        s = self.round
        self.round_rows = s["items"] if s else []
        if s is None:
            self.round_label.setText("尚未开启年度全面核查。")
        else:
            state = "进行中" if s["state"] == "open" else f"已于{s['closed_on']}结束"
            self.round_label.setText(
                f"{s['year']}年度全面核查（{s['opened_on']}开启，{state}）：共{s['total']}条，"
                f"已复核{s['done']}条，未复核{s['pending']}条。"
            )
        self.close_btn.setEnabled(s is not None and s["state"] == "open")
        self.round_table.model().set_rows(
            [
                (
                    r["id"],
                    f"{r['village']}{r['village_group']}",
                    r["name"],
                    f"{r['category_name']} {r['cls']}".strip(),
                    r["state_name"],
                    r["result_name"],
                    r["reviewed_on"] or "",
                )
                for r in self._shown_round()
            ]
        )
        self.round_table.resizeColumnsToContents()

    def _fill(self, table: QTableView, rows: list[dict]) -> None:
        table.model().set_rows(
            [
                (
                    r["id"],
                    f"{r['village']}{r['village_group']}",
                    r["name"],
                    r["cls"],
                    r["period"],
                    r["deadline"],
                    r["last_checked"] or "无",
                )
                for r in rows
            ]
        )
        table.resizeColumnsToContents()

    def _activated(self, row: dict) -> None:
        self.householdActivated.emit(row["household_id"])

    def _selected(self, table: QTableView, rows: list[dict]) -> dict | None:
        picked = table.selectionModel().selectedRows()
        return rows[picked[0].row()] if picked else (rows[0] if rows else None)

    # -- steps -----------------------------------------------------------------------------
    def _dialog(self, title, fields, action, where=None, confirm="") -> FieldsDialog:
        dlg = FieldsDialog(
            title,
            fields,
            self,
            action=action,
            on_done=lambda _v: self.refresh(),
            where=where,
            confirm=confirm,
        )
        return dlg

    def open_round(self) -> FieldsDialog:
        year = QSpinBox()
        year.setRange(2000, self._day().year + 1)
        year.setValue(self._day().year)
        on = _date(self._day())
        dlg = self._dialog(
            "开启年度全面核查",
            [("year", "核查年度", year), ("on", "开启日期", on)],
            lambda: reviews.open_round(self.store, year.value(), on.text()),
            where={"round_on": "on", "bad_year": "year", "round_exists": "year"},
        )
        dlg.open()
        return dlg

    def close_round(self) -> FieldsDialog | None:
        if self.round is None:
            return None
        year = self.round["year"]
        force = QCheckBox("仍有未复核记录时也结束（计为未复核）")
        on = _date(self._day())
        dlg = self._dialog(
            f"结束{year}年度全面核查",
            [("on", "结束日期", on), ("force", "", force)],
            lambda: reviews.close_round(self.store, year, on.text(), force.isChecked()),
            where={"round_on": "on", "date_too_early": "on", "round_incomplete": "force"},
        )
        dlg.open()
        return dlg

    def record_check(self) -> FieldsDialog | None:
        row = self._selected(self.due_table, self.due_rows)
        who = QLabel(f"#{row['id']} {row['name']}" if row else "")
        eid = QSpinBox()
        eid.setRange(1, 2**31 - 1)
        eid.setValue(row["id"] if row else 1)
        on = _date(self._day())
        method = _combo(survival.methods())
        note = QLineEdit()
        dlg = self._dialog(
            "登记生存认证",
            [
                ("who", "对象", who),
                ("enrolment", "保障记录编号", eid),
                ("on", "认证日期", on),
                ("method", "认证方式", method),
                ("note", "备注", note),
            ],
            lambda: survival.record_check(
                self.store, eid.value(), method.currentData(), on.text(), note.text()
            ),
            where={"survival_on": "on", "bad_method": "method", "no_survival": "enrolment"},
        )
        dlg.open()
        return dlg

    def confirm_stop(self) -> FieldsDialog | None:
        row = self._selected(self.proposal_table, self.proposal_rows)
        if row is None:
            return None
        who = QLabel(f"#{row['id']} {row['village']}{row['village_group']} {row['name']}")
        why = QLabel(f"{row['period']}未在{row['deadline']}前完成生存认证")
        dlg = self._dialog(
            "确认停发",
            [("who", "对象", who), ("why", "原因", why)],
            lambda: survival.confirm_stop(self.store, row["id"], row["period"], self._day()),
            confirm=f"确认停发 {row['name']} 的高龄津贴？从下月起停发，并列入停发公示。",
        )
        dlg.open()
        return dlg

    def set_mode(self) -> FieldsDialog:
        mode = _combo(nr.DELIBERATION_MODES, nr.deliberation_mode(self.store))
        note = QLineEdit()
        note.setPlaceholderText("依据，如县民政局文件号")
        dlg = self._dialog(
            "民主评议设置（县级）",
            [("mode", "民主评议", mode), ("note", "说明", note)],
            lambda: nr.set_deliberation_mode(self.store, mode.currentData(), note.text()),
            where={"bad_mode": "mode"},
        )
        dlg.open()
        return dlg

    def flag(self) -> FieldsDialog:
        eid = QSpinBox()
        eid.setRange(1, 2**31 - 1)
        needed = _combo({"yes": "需民主评议", "no": "无需民主评议"})
        reason = QLineEdit()
        reason.setPlaceholderText("如：收入接近保障标准")
        dlg = self._dialog(
            "标记需民主评议",
            [
                ("enrolment", "保障记录编号", eid),
                ("needed", "是否评议", needed),
                ("reason", "原因", reason),
            ],
            lambda: nr.flag_deliberation(
                self.store, eid.value(), needed.currentData() == "yes", reason.text()
            ),
            where={
                "not_found": "enrolment",
                "no_deliberation": "enrolment",
                "illegal_transition": "enrolment",
            },
        )
        dlg.open()
        return dlg

    def set_plan(self) -> FieldsDialog:
        hid = QSpinBox()
        hid.setRange(1, 2**31 - 1)
        levels = {k: v["label"] for k, v in reviews.stability_levels().items()}
        stability = _combo({**levels, "custom": "自定周期"})
        months = QSpinBox()
        months.setRange(1, reviews.PLAN_LIMIT_MONTHS)
        months.setValue(6)
        note = QLineEdit()

        def action():
            code = stability.currentData()
            chosen = months.value() if code == "custom" else None
            return reviews.set_plan(self.store, hid.value(), code, chosen, None, note.text())

        dlg = self._dialog(
            "设置家庭复核周期",
            [
                ("household", "家庭编号", hid),
                ("stability", "家庭情况", stability),
                ("months", "自定月数", months),
                ("note", "备注", note),
            ],
            action,
            where={"not_found": "household", "bad_stability": "stability", "bad_months": "months"},
        )
        dlg.open()
        return dlg
