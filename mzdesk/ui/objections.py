"""异议: objections on the rows of a published notice — record, investigate, resolve.

The rows of one notice are listed with their objections (未结/已结 shown on the row);
the objections of the selected row below.  登记异议 (who, date, content), 核实情况
(the investigation's finding; the objection stays open) and 处理结果 (异议成立 /
异议不成立; an upheld one can end the application, 不予确认, through the enrolment
service, after a confirmation) each open a :class:`FieldsDialog` that checks before it
closes.  The work is :mod:`mzdesk.models.notice` and :mod:`mzdesk.models.objections`.

Wiring: 公示 page → 异议… on an opened notice (ui/notice_builder.py).
"""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import notice as nt
from ..models.categories import state_label
from ..models.money import format_fen
from ..models.objections import (
    EFFECTS,
    OUTCOMES,
    get_objection,
    notice_rows,
    record_finding,
    resolve_objection,
)
from ..models.store import Store
from .fields_dialog import FieldsDialog

ROW_COLUMNS = ("序号", "村组", "姓名", "类别", "月保障金额(元)", "当前状态", "异议")
OBJECTION_COLUMNS = ("编号", "日期", "异议人", "异议内容", "核实情况", "处理结果", "状态")


def objection_text(row: dict) -> str:
    """What a notice row says about its objections: 无 / 1条未结 / 共2条，均已处理."""
    total, open_ = row["objections"], row["open_objections"]
    if not total:
        return "无"
    if open_:
        return f"{open_}条未结（共{total}条）"
    return f"共{total}条，均已处理"


class ObjectionsDialog(QDialog):
    """The rows of notice ``notice_id`` and their objections."""

    changed = Signal()

    def __init__(self, store: Store, notice_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.notice_id = store, notice_id
        n = nt.get_notice(store, notice_id)
        self.notice = n
        self.setWindowTitle(f"公示异议 - 公示{notice_id}")
        self.resize(980, 560)
        head = QLabel(f"{n.title}\n公示期 {n.start_on} 至 {n.end_on}")
        head.setWordWrap(True)
        self.rows_table = self._table(ROW_COLUMNS)
        self.rows_table.itemSelectionChanged.connect(self._show_objections)
        self.obj_table = self._table(OBJECTION_COLUMNS)
        self.obj_table.itemSelectionChanged.connect(self._update_buttons)
        self.add_btn = QPushButton("登记异议…")
        self.finding_btn = QPushButton("核实情况…")
        self.resolve_btn = QPushButton("处理结果…")
        self.add_btn.clicked.connect(lambda: self.record())
        self.finding_btn.clicked.connect(lambda: self.investigate())
        self.resolve_btn.clicked.connect(lambda: self.resolve())
        for b in (self.add_btn, self.finding_btn, self.resolve_btn):
            b.setAutoDefault(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        close = box.button(QDialogButtonBox.StandardButton.Ok)
        close.setText("关闭")
        box.accepted.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.add_btn, self.finding_btn, self.resolve_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        root = QVBoxLayout(self)
        root.addWidget(head)
        root.addWidget(QLabel("公示名单（选择一行查看或登记异议）"))
        root.addWidget(self.rows_table, 3)
        root.addWidget(QLabel("该行的异议"))
        root.addWidget(self.obj_table, 2)
        root.addLayout(buttons)
        root.addWidget(self.status)
        root.addWidget(box)
        self.reload()
        if self.rows:
            self.rows_table.selectRow(0)

    @staticmethod
    def _table(columns) -> QTableWidget:
        t = QTableWidget(0, len(columns))
        t.setHorizontalHeaderLabels(columns)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        t.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        t.horizontalHeader().setStretchLastSection(True)
        return t

    # -- listing -----------------------------------------------------------------------
    def reload(self) -> None:
        keep = self.current_row()
        self.rows = notice_rows(self.store, self.notice_id)
        t = self.rows_table
        t.blockSignals(True)
        t.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            values = (
                str(r["seq"]),
                f"{r['village']}{r['village_group']}",
                r["name"],
                r["category_label"],
                format_fen(r["monthly_fen"]),
                state_label(r["state"] or ""),
                objection_text(r),
            )
            for j, text in enumerate(values):
                item = QTableWidgetItem(text)
                if j == len(values) - 1 and r["open_objections"]:
                    item.setForeground(Qt.GlobalColor.red)
                t.setItem(i, j, item)
        t.resizeColumnsToContents()
        t.blockSignals(False)
        if keep is not None:
            for i, r in enumerate(self.rows):
                if r["enrolment_id"] == keep["enrolment_id"]:
                    t.selectRow(i)
        self._show_objections()
        open_total = sum(r["open_objections"] for r in self.rows)
        self.status.setText(
            f"共{len(self.rows)}行，{open_total}条异议尚未处理（未处理的异议阻止报送审核）"
            if open_total
            else f"共{len(self.rows)}行，没有未处理的异议"
        )

    def current_row(self) -> dict | None:
        sel = self.rows_table.selectionModel().selectedRows() if hasattr(self, "rows") else []
        return self.rows[sel[0].row()] if sel else None

    def select_row(self, enrolment_id: int) -> None:
        for i, r in enumerate(self.rows):
            if r["enrolment_id"] == enrolment_id:
                self.rows_table.selectRow(i)

    def _show_objections(self) -> None:
        r = self.current_row()
        self.objs = (
            [] if r is None else nt.objections(self.store, self.notice_id, r["enrolment_id"])
        )
        t = self.obj_table
        t.setRowCount(len(self.objs))
        for i, o in enumerate(self.objs):
            values = (
                str(o["id"]),
                o["raised_on"],
                o["raised_by"],
                o["content"],
                o["follow_up"] or "",
                o["outcome"] or "",
                "已处理" if o["state"] == "closed" else "未处理",
            )
            for j, text in enumerate(values):
                t.setItem(i, j, QTableWidgetItem(text))
        t.resizeColumnsToContents()
        if self.objs:
            t.selectRow(len(self.objs) - 1)
        self._update_buttons()

    def current_objection(self) -> dict | None:
        sel = self.obj_table.selectionModel().selectedRows()
        return self.objs[sel[0].row()] if sel else None

    def _update_buttons(self) -> None:
        self.add_btn.setEnabled(self.current_row() is not None)
        o = self.current_objection()
        is_open = o is not None and o["state"] == "open"
        self.finding_btn.setEnabled(is_open)
        self.resolve_btn.setEnabled(is_open)

    def _after(self, message: str):
        def done(_result) -> None:
            self.reload()
            self.status.setText(message)
            self.changed.emit()

        return done

    # -- the three steps ----------------------------------------------------------------
    def record(self) -> FieldsDialog | None:
        """登记异议 on the selected row: who, date, content."""
        r = self.current_row()
        if r is None:
            return None
        by = QLineEdit()
        by.setPlaceholderText("异议人姓名或“匿名来电”等")
        day = QDateEdit(QDate.currentDate())
        day.setCalendarPopup(True)
        day.setDisplayFormat("yyyy-MM-dd")
        content = QLineEdit()
        content.setPlaceholderText("例如 该户有小轿车一辆")
        eid = r["enrolment_id"]
        dlg = FieldsDialog(
            f"登记异议 - {r['name']}",
            [
                ("raised_by", "异议人", by),
                ("raised_on", "收到日期", day),
                ("content", "异议内容", content),
            ],
            self,
            action=lambda: nt.add_objection(
                self.store, self.notice_id, eid, by.text(), content.text(), day.date().toPython()
            ),
            on_done=self._after(f"已登记对{r['name']}的异议"),
            where={"objection_date": "raised_on", "objection_on": "raised_on"},
        )
        dlg.open()
        return dlg

    def investigate(self) -> FieldsDialog | None:
        """核实情况: the finding of the investigation; the objection stays open."""
        o = self.current_objection()
        if o is None:
            return None
        finding = QLineEdit(o["follow_up"] or "")
        finding.setPlaceholderText("例如 入户核实：车辆登记在其女儿名下")
        dlg = FieldsDialog(
            f"核实异议{o['id']}",
            [("content", "异议内容", QLabel(o["content"])), ("follow_up", "核实情况", finding)],
            self,
            action=lambda: record_finding(self.store, o["id"], finding.text()),
            on_done=self._after(f"已记录异议{o['id']}的核实情况"),
            where={"objection_incomplete": "follow_up"},
        )
        dlg.open()
        return dlg

    def resolve(self) -> FieldsDialog | None:
        """处理结果: upheld or dismissed, and what an upheld one does to the enrolment."""
        o = self.current_objection()
        if o is None:
            return None
        o = get_objection(self.store, o["id"])
        outcome, effect = QComboBox(), QComboBox()
        for value, label in OUTCOMES.items():
            outcome.addItem(label, value)
        outcome.setCurrentIndex(outcome.findData("dismissed"))
        for value, label in EFFECTS.items():
            effect.addItem(label, value)
        finding = QLineEdit(o["follow_up"] or "")
        finding.setPlaceholderText("调查核实的情况")
        note = QLineEdit()
        note.setPlaceholderText("可不填，例如 已电话告知异议人")

        def outcome_changed() -> None:
            upheld = outcome.currentData() == "upheld"
            effect.setEnabled(upheld)
            if not upheld:
                effect.setCurrentIndex(effect.findData("none"))

        outcome.currentIndexChanged.connect(outcome_changed)
        outcome_changed()
        name = next((r["name"] for r in self.rows if r["enrolment_id"] == o["enrolment_id"]), "")
        dlg = FieldsDialog(
            f"处理异议{o['id']}",
            [
                ("content", "异议内容", QLabel(o["content"])),
                ("outcome", "处理结果", outcome),
                ("follow_up", "核实情况", finding),
                ("effect", "对保障记录", effect),
                ("note", "处理意见", note),
            ],
            self,
            action=lambda: resolve_objection(
                self.store,
                o["id"],
                outcome.currentData(),
                finding.text(),
                note.text(),
                effect.currentData(),
            ),
            on_done=self._after(f"异议{o['id']}已处理"),
            where={"objection_incomplete": "follow_up", "bad_effect": "effect"},
        )

        def ask_when_rejecting() -> None:  # 不予确认 cannot be taken back: ask first
            dlg.confirm = (
                f"异议成立并对{name}不予确认？\n本次申请将终止（不予确认，理由为核实情况），不能撤回。"
                if effect.currentData() == "reject"
                else ""
            )

        effect.currentIndexChanged.connect(ask_when_rejecting)
        outcome.currentIndexChanged.connect(ask_when_rejecting)
        dlg.open()
        return dlg
