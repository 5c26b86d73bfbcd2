"""Enrolment panel (救助保障) for one household: its enrolments, transitions, reviews.

Every button calls one function of :mod:`mzdesk.models.enrolment` (the 更多 menu: 增发/减发
of :mod:`mzdesk.models.components`, 暂停/恢复/渐退/不予受理 of
:mod:`mzdesk.models.enrolment_states`); a refused transition comes back as the core's
message, shown once (:func:`mzdesk.ui.ops.run`).  The list shows each amount's parts
(保障金 + 分类施保金, 基本生活费 + 照料护理费).

Wiring: a tab "救助保障" on the household dialog → ``EnrolmentPanel(store, household_id)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import components as comp
from ..models import enrolment as enr
from ..models import enrolment_states as st
from ..models import notice_rules
from ..models.categories import categories, state_label
from ..models.dates import RULES, current_day, to_day
from ..models.errors import FieldError, MzError
from ..models.money import format_fen, parse_assistance
from ..models.query import default_category, household_members
from ..models.store import Store
from . import income_panel, ops
from .fields_dialog import FieldsDialog
from .letters_actions import LetterActions
from .support_panel import SupportPanel

ACTION_LABELS = {a: v[0] for a, v in enr.ACTIONS.items()} | {
    "amend": "修改核定",
    "change_amount": "增发/减发",
    "publicise_change": "变更公示",
    "publicise_stop": "停发公示",
    "extend": "延期",  # models/clocks.py
    "letter": "书面告知",  # models/letters.py
}


def table(headers: tuple[str, ...]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    t.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    return t


def fill(t: QTableWidget, rows: list[tuple]) -> None:
    t.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            t.setItem(i, j, QTableWidgetItem("" if v is None else str(v)))
    t.resizeColumnsToContents()


class EnrolmentPanel(QWidget):
    """One household's enrolments with their history and the next possible actions."""

    changed = Signal(int)  # enrolment id

    def __init__(self, store: Store, household_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.household_id = household_id
        self.enrolments: list[enr.Enrolment] = []
        self.list = table(
            ("编号", "类别", "对象", "状态", "保障人口", "金额(元)", "金额构成", "起始", "复核到期")
        )
        self.history = table(("时间", "经办人", "操作", "状态", "原因/说明"))
        self.list.itemSelectionChanged.connect(self._selected)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, label, slot in (
            ("apply", "新申请…", self._apply_clicked),
            ("investigate", "开始调查", lambda: self.act("investigate")),
            ("record_investigation", "登记调查…", self._survey_clicked),
            ("deliberate", "民主评议…", self._deliberate_clicked),
            ("submit", "报送审核", lambda: self.act("submit")),
            ("review", "复核…", self._review_clicked),
            ("stop", "停发…", lambda: self._reason_then("stop", "停发原因")),
            ("reject", "不予确认…", lambda: self._reason_then("reject", "不予确认理由")),
        ):
            b = QPushButton(label)
            b.clicked.connect(slot)
            self.buttons[key] = b
            row.addWidget(b)
        self.income_button = QPushButton("收入核算…")  # ui/income_panel.py
        self.income_button.clicked.connect(self.open_income)
        row.addWidget(self.income_button)
        more = QPushButton("更多…")
        menu = QMenu(more)
        self.more: dict[str, QAction] = {}
        for key, label, slot in (
            ("increase", "增发/减发…", self._change_amount_clicked),
            ("suspend", "暂停发放…", lambda: self._month_reason_then("suspend", "暂停原因")),
            ("resume", "恢复发放…", lambda: self._month_reason_then("resume", "恢复说明")),
            ("phase_out", "进入渐退期…", lambda: self._month_reason_then("phase_out", "原因")),
            ("phase_out_end", "渐退期满停发", lambda: self.act("phase_out_end")),
            ("not_accept", "不予受理…", lambda: self._reason_then("not_accept", "不予受理理由")),
        ):
            self.more[key] = menu.addAction(label, slot)
        self.letters = LetterActions(self, store, menu, self.current, self._letter_done)
        more.setMenu(menu)
        self.buttons_more = more
        row.addWidget(more)
        row.addStretch(1)
        self.note = QLabel()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(self.history)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        self.support = SupportPanel(store)  # 特困: shown for an enrolment with a 供养方式
        self.support.saved.connect(lambda eid: self.refresh(select=eid))
        layout.addWidget(self.support)
        layout.addWidget(self.note)
        self.refresh()

    # -- data ---------------------------------------------------------------------
    def refresh(self, select: int | None = None) -> None:
        self.enrolments = enr.for_household(self.store, self.household_id)
        names = {
            m["id"]: m["name"]
            for m in household_members(self.store, self.household_id, active_only=False)
        }
        fill(
            self.list,
            [
                (
                    e.id,
                    enr.describe(self.store, e),
                    names.get(e.member_id, "全户"),
                    state_label(e.state),
                    e.covered,
                    format_fen(e.monthly_fen),
                    self._parts_text(e),
                    e.start_on,
                    e.review_due,
                )
                for e in self.enrolments
            ],
        )
        ids = [e.id for e in self.enrolments]
        if select in ids:
            self.list.selectRow(ids.index(select))
        elif ids:
            self.list.selectRow(len(ids) - 1)
        self._selected()

    def _parts_text(self, e: enr.Enrolment) -> str:
        """'保障金 760.00 + 分类施保金 120.00': the current parts, none of 0 but base."""
        parts = comp.parts_detail(self.store, e.id)
        if len(parts) < 2:
            return ""
        return " + ".join(f"{p['name']} {format_fen(p['fen'])}" for p in parts)

    def current(self) -> enr.Enrolment | None:
        rows = self.list.selectionModel().selectedRows()
        return self.enrolments[rows[0].row()] if rows else None

    def _selected(self) -> None:
        e = self.current()
        for key, b in self.buttons.items():
            if key != "apply":
                b.setEnabled(e is not None and e.state in enr.ACTIONS[key][1])
        self.income_button.setEnabled(e is not None and income_panel.applies(self.store, e))
        for key, a in self.more.items():
            a.setEnabled(e is not None and e.state in enr.ACTIONS[key][1])
        self.letters.update(e)
        self.support.show_enrolment(e)
        if e is None:
            fill(self.history, [])
            self.note.setText("")
            return
        fill(
            self.history,
            [
                (
                    h["at"],
                    h["by"],
                    ACTION_LABELS.get(h["action"], h["action"]),
                    state_label(h["to_state"]),
                    h["reason"],
                )
                for h in enr.history(self.store, e.id)
            ],
        )
        why = (
            notice_rules.ready_for_notice(self.store, e)
            if e.state in ("investigating", "reviewed")
            else None
        )
        self.note.setText(f"尚不能公示：{why}" if why else "")

    # -- actions (also called by tests) ---------------------------------------------------
    def _call(self, title: str, fn: Callable[[], enr.Enrolment]) -> bool:
        return bool(ops.run(self, fn, self._changed, title=title))

    def _letter_done(self, enrolment_id: int) -> None:
        self._changed(enr.get(self.store, enrolment_id))

    def _changed(self, e: enr.Enrolment) -> None:
        self.refresh(select=e.id)
        self.changed.emit(e.id)

    def apply(
        self,
        category: str,
        member_id: int | None = None,
        cls: str = "",
        monthly_fen: int = 0,
        reason: str = "",
    ) -> bool:
        return self._call(
            "新申请",
            lambda: enr.create(
                self.store,
                self.household_id,
                category,
                member_id=member_id,
                cls=cls,
                monthly_fen=monthly_fen,
                reason=reason,
            ),
        )

    def open_income(self) -> income_panel.IncomeDialog | None:
        """收入核算 for the selected enrolment; refreshes when an amount was saved."""
        e = self.current()
        if e is None:
            return None
        dlg = income_panel.IncomeDialog(self.store, e, self)
        dlg.accepted.connect(lambda: self._changed(enr.get(self.store, e.id)))
        dlg.open()
        return dlg

    def act(self, action: str, today: dt.date | None = None, **kw) -> bool:
        """Run one transition on the selected enrolment."""
        e = self.current()
        if e is None:
            return False
        title = ACTION_LABELS.get(action, action)
        fns = {
            "investigate": lambda: enr.start_investigation(self.store, e.id, **kw),
            "record_investigation": lambda: enr.record_investigation(self.store, e.id, **kw),
            "deliberate": lambda: enr.deliberate(self.store, e.id, **kw),
            "submit": lambda: enr.submit(self.store, e.id, today=today, **kw),
            "review": lambda: enr.review(self.store, e.id, today=today, **kw),
            "stop": lambda: enr.stop(self.store, e.id, today=today, **kw),
            "reject": lambda: enr.reject(self.store, e.id, today=today, **kw),
            "not_accept": lambda: st.not_accept(self.store, e.id, today=today, **kw),
            "suspend": lambda: st.suspend(self.store, e.id, today=today, **kw),
            "resume": lambda: st.resume(self.store, e.id, today=today, **kw),
            "phase_out": lambda: st.phase_out(self.store, e.id, today=today, **kw),
            "phase_out_end": lambda: st.finish_phase_out(self.store, e.id, today=today, **kw),
            "change_amount": lambda: comp.set_components(self.store, e.id, **kw),
        }
        return self._call(title, fns[action])

    # -- dialogs ------------------------------------------------------------------------------
    # Each opens a window-modal FieldsDialog that runs its step on 确定 and stays open
    # with what was typed when the core refuses it (the problem beside its field).
    def _dialog(
        self, title: str, fields, action, where: dict[str, str] | None = None, confirm=""
    ) -> FieldsDialog:
        dlg = FieldsDialog(
            title, fields, self, action=action, on_done=self._changed, where=where, confirm=confirm
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self.dialog = dlg
        return dlg

    @staticmethod
    def _date_box(kind: str) -> QLineEdit:
        """A date the clerk may change (default today), checked by the core's date rules."""
        box = QLineEdit(current_day().isoformat())
        box.setPlaceholderText("年-月-日，如 2026-03-01")
        box.setToolTip(f"{RULES[kind].label}：默认今天，可改为实际日期")
        return box

    def _apply_clicked(self) -> FieldsDialog:
        cat = QComboBox()
        for code, c in categories(self.store).items():
            cat.addItem(c["name"], code)
        cat.setCurrentIndex(max(0, cat.findData(default_category(self.store, self.household_id))))
        member = QComboBox()
        member.addItem("全户（按户保）", None)  # a member for 低保: 单人保
        for m in household_members(self.store, self.household_id):
            member.addItem(f"{m['name']}（{m['relation']}）", m["id"])
        cls, amount, reason = QLineEdit(), QLineEdit("0"), QLineEdit()
        cls.setPlaceholderText("如 二类、部分丧失生活自理能力、80-89岁")
        applied = self._date_box("applied_on")

        def run() -> enr.Enrolment:
            fen = _field(lambda: parse_assistance(amount.text()), "amount")
            return enr.create(
                self.store,
                self.household_id,
                cat.currentData(),
                member_id=member.currentData(),
                cls=cls.text().strip(),
                monthly_fen=fen,
                applied_on=to_day(applied.text(), "applied_on"),
                reason=reason.text(),
            )

        return self._dialog(
            "新申请",
            [
                ("category", "类别", cat),
                ("member", "保障对象", member),
                ("cls", "档次", cls),
                ("amount", "拟保障金额(元)", amount),
                ("applied_on", "申请日期", applied),
                ("reason", "说明", reason),
            ],
            run,
            where={
                "applied_on": "applied_on",
                "duplicate_enrolment": "category",
                "monthly_fen": "amount",
            },
        )

    def _survey_clicked(self) -> FieldsDialog | None:
        e = self.current()
        if e is None:
            return None
        a, b, ver, concl = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        on = self._date_box("investigated_on")
        return self._dialog(
            "登记入户调查",
            [
                ("a", "调查人一", a),
                ("b", "调查人二", b),
                ("on", "调查日期", on),
                ("v", "经济状况核对结果", ver),
                ("c", "调查结论", concl),
            ],
            lambda: enr.record_investigation(
                self.store,
                e.id,
                [a.text(), b.text()],
                ver.text(),
                on=to_day(on.text(), "investigated_on"),
                conclusion=concl.text(),
            ),
            where={
                "too_few_investigators": "b",
                "verification_required": "v",
                "investigated_on": "on",
            },
        )

    def _deliberate_clicked(self) -> FieldsDialog | None:
        e = self.current()
        if e is None:
            return None
        n = QSpinBox()
        n.setRange(0, 500)
        result = QLineEdit("同意")
        on = self._date_box("deliberated_on")
        return self._dialog(
            "民主评议",
            [("n", "参会人数", n), ("on", "评议日期", on), ("r", "评议结果", result)],
            lambda: enr.deliberate(
                self.store,
                e.id,
                n.value(),
                result.text(),
                on=to_day(on.text(), "deliberated_on"),
            ),
            where={"deliberation_incomplete": "n", "deliberated_on": "on"},
        )

    def _review_clicked(self) -> FieldsDialog | None:
        e = self.current()
        if e is None:
            return None
        outcome = QComboBox()
        for code, label in enr.REVIEW_OUTCOMES.items():
            outcome.addItem(label, code)
        amount, reason = QLineEdit(), QLineEdit()
        amount.setPlaceholderText("变更时填写新金额(元)")

        def run() -> enr.Enrolment:
            text = amount.text().strip()
            fen = _field(lambda: parse_assistance(text), "a") if text else None
            return enr.review(
                self.store,
                e.id,
                outcome=outcome.currentData(),
                monthly_fen=fen,
                reason=reason.text(),
            )

        return self._dialog(
            "复核",
            [("o", "复核结果", outcome), ("a", "新金额(元)", amount), ("r", "原因", reason)],
            run,
            where={"reason_required": "r", "reason": "r", "monthly_fen": "a"},
        )

    def _reason_then(self, action: str, label: str) -> FieldsDialog | None:
        e = self.current()
        if e is None:
            return None
        reason = QLineEdit()
        fields: list[tuple[str, str, QWidget]] = [("r", label, reason)]
        on = None
        if action == "stop":
            on = self._date_box("stopped_on")
            fields.append(("on", "停发日期", on))
        head = enr.describe(self.store, e)

        def run() -> enr.Enrolment:
            day = to_day(on.text(), "stopped_on") if on is not None else None
            if action == "not_accept":
                return st.not_accept(self.store, e.id, reason.text(), day)
            fn = enr.stop if action == "stop" else enr.reject
            return fn(self.store, e.id, reason=reason.text(), today=day)

        what = ACTION_LABELS[action]
        return self._dialog(
            what,
            fields,
            run,
            where={"reason_required": "r", "reason": "r", "stopped_on": "on", "rejected_on": "r"},
            confirm=f"确定对“{head}”（编号{e.id}）{what}？\n此操作记入历史，不能撤销。",
        )

    def _month_reason_then(self, action: str, label: str) -> FieldsDialog | None:
        e = self.current()
        if e is None:
            return None
        month, reason = QLineEdit(current_day().strftime("%Y-%m")), QLineEdit()
        fns = {"suspend": st.suspend, "resume": st.resume, "phase_out": st.phase_out}

        def run() -> enr.Enrolment:
            return fns[action](self.store, e.id, from_month=month.text(), reason=reason.text())

        return self._dialog(
            ACTION_LABELS[action],
            [("m", "起始月份（YYYY-MM）", month), ("r", label, reason)],
            run,
            where={"from_month": "m", "month": "m", "reason": "r", "reason_required": "r"},
        )

    def _change_amount_clicked(self) -> FieldsDialog | None:
        e = self.current()
        if e is None:
            return None
        names = comp.component_names(e.category)
        now = comp.in_force(self.store, e.id)
        edits = {k: QLineEdit(format_fen(v)) for k, v in now.items()}
        month, reason = QLineEdit(current_day().strftime("%Y-%m")), QLineEdit()
        fields = [(k, f"{names.get(k, k)}（元）", w) for k, w in edits.items()]

        def run() -> enr.Enrolment:
            parts = {
                k: _field(lambda w=w: parse_assistance(w.text() or "0"), k)
                for k, w in edits.items()
            }
            return comp.set_components(
                self.store, e.id, parts, from_month=month.text(), reason=reason.text()
            )

        return self._dialog(
            "增发/减发",
            [*fields, ("m", "起始月份（YYYY-MM）", month), ("r", "原因", reason)],
            run,
            where={"from_month": "m", "month": "m", "reason": "r", "reason_required": "r"},
        )


def _field(fn, key: str):
    """``fn()``, its refusal re-aimed at field ``key`` of the dialog."""
    try:
        return fn()
    except MzError as exc:
        raise FieldError(key, exc.code, exc.message) from None
