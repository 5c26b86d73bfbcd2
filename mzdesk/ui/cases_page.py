"""临时救助 and 医疗救助 cases page: a compact list and the steps of a case.

新登记 (an application), 审批 (批准/不予救助), 发放 (with 小额先行 for a case not yet
decided within the township's limit), 补齐材料.  Every step is a :class:`FieldsDialog`
that runs :mod:`mzdesk.models.cases` (validation and permissions live there) and stays
open with what was typed when the core refuses it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..models import cases
from ..models.dates import RULES, current_day, to_day
from ..models.errors import FieldError
from ..models.money import format_fen, parse_assistance
from ..models.query import household_members
from ..models.store import Store
from .fields_dialog import FieldsDialog
from .rows_model import RowsModel

TITLE = "临时救助与医疗救助"
HEADERS = (
    "编号",
    "状态",
    "村(社区)",
    "姓名",
    "救助",
    "类型",
    "原因",
    "申请日期",
    "金额(元)",
    "审批",
    "发放日期",
    "发放金额(元)",
    "小额先行",
)


def _date_box(kind: str) -> QLineEdit:
    box = QLineEdit(current_day().isoformat())
    box.setPlaceholderText("年-月-日，如 2026-03-01")
    box.setToolTip(f"{RULES[kind].label}：默认今天，可改为实际日期")
    return box


def _fen(text: str, key: str) -> int:
    return parse_assistance(text, key)


def _household_id(text: str) -> int:
    text = text.strip()
    if not text.isdigit() or len(text) > 12:
        raise FieldError("household", "bad_household", f"家庭编号应为数字：{text!r}")
    return int(text)


def _combo(items: dict[str, str], first: tuple[str, object] | None = None) -> QComboBox:
    box = QComboBox()
    if first is not None:
        box.addItem(*first)
    for code, label in items.items():
        box.addItem(label, code)
    return box


class CasesPage(QWidget):
    """The list of cases with filters, and the buttons for each step."""

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.dialog: FieldsDialog | None = None
        self.shown: list[cases.Case] = []
        self.state = _combo(cases.STATES, ("全部状态", None))
        self.kind = _combo(cases.kinds(), ("全部救助", None))
        self.state.currentIndexChanged.connect(self.refresh)
        self.kind.currentIndexChanged.connect(self.refresh)
        self.add_btn = QPushButton("新登记…")
        self.decide_btn = QPushButton("审批…")
        self.pay_btn = QPushButton("发放…")
        self.document_btn = QPushButton("补齐材料…")
        self.add_btn.clicked.connect(self.add_clicked)
        self.decide_btn.clicked.connect(self.decide_clicked)
        self.pay_btn.clicked.connect(self.pay_clicked)
        self.document_btn.clicked.connect(self.document_clicked)
        bar = QHBoxLayout()
        for w in (self.state, self.kind):
            bar.addWidget(w)
        bar.addStretch()
        for b in (self.add_btn, self.decide_btn, self.pay_btn, self.document_btn):
            bar.addWidget(b)
        self.model = RowsModel(HEADERS, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._buttons())
        self.summary = QLabel()
        limit = format_fen(cases.fast_track_limit_fen())
        hint = QLabel(f"小额先行限额 {limit} 元：未审批的案件可先发放，之后补齐材料。")
        hint.setStyleSheet("color: #555")
        root = QVBoxLayout(self)
        root.addLayout(bar)
        root.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.summary)
        row.addStretch()
        row.addWidget(hint)
        root.addLayout(row)
        self.refresh()

    # -- the list ------------------------------------------------------------------------
    def refresh(self) -> None:
        self.shown = cases.list_cases(self.store, self.state.currentData(), self.kind.currentData())
        rows = []
        for c in self.shown:
            d = c.as_dict()
            rows.append(
                (
                    c.id,
                    d["state_label"],
                    c.village,
                    c.name,
                    d["kind_label"],
                    d["type_label"],
                    d["cause_label"],
                    c.applied_on,
                    d["amount"],
                    f"{d['decision_label']} {c.decided_on or ''}".strip(),
                    c.paid_on or "",
                    d["paid"],
                    "是" if c.fast_track else "",
                )
            )
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        waiting = sum(1 for c in self.shown if c.state == "awaiting_documents")
        self.summary.setText(f"共 {len(self.shown)} 件，待补材料 {waiting} 件")
        self._buttons()

    def current(self) -> cases.Case | None:
        rows = self.table.selectionModel().selectedRows()
        return self.shown[rows[0].row()] if rows else None

    def select(self, case_id: int) -> None:
        for i, c in enumerate(self.shown):
            if c.id == case_id:
                self.table.selectRow(i)
                return

    def _buttons(self) -> None:
        c = self.current()
        state = c.state if c else None
        self.decide_btn.setEnabled(state == "pending")
        self.pay_btn.setEnabled(state in ("pending", "approved"))
        self.document_btn.setEnabled(state == "awaiting_documents")

    def _done(self, c: cases.Case) -> None:
        self.refresh()
        self.select(c.id)

    def _dialog(self, title: str, fields, action, where: dict[str, str]) -> FieldsDialog:
        dlg = FieldsDialog(f"{title}", fields, self, action=action, on_done=self._done, where=where)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self.dialog = dlg
        return dlg

    # -- the steps -----------------------------------------------------------------------
    def add_clicked(self) -> FieldsDialog:
        household = QLineEdit()
        household.setPlaceholderText("家庭编号（户主查询中可见）")
        member = QComboBox()
        kind = _combo(cases.kinds())
        case_type = _combo(cases.types(), ("（医疗救助不分）", ""))
        case_type.setCurrentIndex(1)
        cause = _combo(cases.causes())
        amount, note = QLineEdit(), QLineEdit()
        amount.setPlaceholderText("元，如 800")
        applied = _date_box("applied_on")

        def members() -> None:
            member.clear()
            member.addItem("全户", None)
            text = household.text().strip()
            if text.isdigit() and len(text) <= 12:
                for m in household_members(self.store, int(text)):
                    member.addItem(f"{m['name']}（{m['relation']}）", m["id"])

        def kind_changed() -> None:
            medical = kind.currentData() == "medical"
            case_type.setCurrentIndex(0 if medical else max(1, case_type.currentIndex()))

        household.textChanged.connect(lambda _t: members())
        kind.currentIndexChanged.connect(lambda _i: kind_changed())
        members()

        def run() -> cases.Case:
            return cases.add(
                self.store,
                _household_id(household.text()),
                kind.currentData(),
                member_id=member.currentData(),
                case_type=case_type.currentData(),
                cause=cause.currentData(),
                amount_fen=_fen(amount.text(), "amount"),
                applied_on=to_day(applied.text(), "applied_on"),
                note=note.text(),
            )

        return self._dialog(
            "登记救助申请",
            [
                ("household", "家庭编号", household),
                ("member", "救助对象", member),
                ("kind", "救助", kind),
                ("case_type", "临时救助类型", case_type),
                ("cause", "原因", cause),
                ("amount", "申请金额(元)", amount),
                ("applied_on", "申请日期", applied),
                ("note", "备注", note),
            ],
            run,
            where={
                "not_found": "household",
                "household_deleted": "household",
                "member_not_in_household": "member",
                "bad_case_type": "case_type",
                "bad_cause": "cause",
                "bad_kind": "kind",
                "bad_amount": "amount",
                "amount_too_large": "amount",
            },
        )

    def decide_clicked(self) -> FieldsDialog | None:
        c = self.current()
        if c is None:
            return None
        decision = _combo(cases.DECISIONS)
        amount = QLineEdit(format_fen(c.amount_fen))
        on, note = _date_box("case_decided_on"), QLineEdit()
        note.setPlaceholderText("不予救助须填写理由")
        return self._dialog(
            f"审批：{c.name}（#{c.id}）",
            [
                ("decision", "审批结果", decision),
                ("amount", "批准金额(元)", amount),
                ("on", "审批日期", on),
                ("note", "审批意见", note),
            ],
            lambda: cases.decide(
                self.store,
                c.id,
                decision.currentData(),
                on=to_day(on.text(), "case_decided_on", "on"),
                amount_fen=_fen(amount.text(), "amount"),
                note=note.text(),
            ),
            where={"reason_required": "note", "case_decided_on": "on", "case_decided": "decision"},
        )

    def pay_clicked(self) -> FieldsDialog | None:
        c = self.current()
        if c is None:
            return None
        amount = QLineEdit(format_fen(c.amount_fen))
        on = _date_box("case_paid_on")
        fast = QComboBox()
        if c.state == "pending":
            fast.addItem("是（小额先行，之后补齐材料）", True)
        else:
            fast.addItem("否（已审批）", False)
        return self._dialog(
            f"发放：{c.name}（#{c.id}）",
            [
                ("amount", "发放金额(元)", amount),
                ("on", "发放日期", on),
                ("fast", "小额先行", fast),
            ],
            lambda: cases.pay(
                self.store,
                c.id,
                on=to_day(on.text(), "case_paid_on", "on"),
                paid_fen=_fen(amount.text(), "paid"),
                fast=bool(fast.currentData()),
            ),
            where={
                "paid": "amount",
                "paid_too_much": "amount",
                "over_fast_track_limit": "fast",
                "case_paid_on": "on",
            },
        )

    def document_clicked(self) -> FieldsDialog | None:
        c = self.current()
        if c is None:
            return None
        on = _date_box("case_documented_on")
        return self._dialog(
            f"补齐材料：{c.name}（#{c.id}）",
            [("on", "补齐日期", on)],
            lambda: cases.document(
                self.store, c.id, on=to_day(on.text(), "case_documented_on", "on")
            ),
            where={"case_documented_on": "on"},
        )
