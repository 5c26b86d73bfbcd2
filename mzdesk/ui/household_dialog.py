"""Household form (家庭信息): intake and editing of a household with its members.

Keyboard first: fields in reading order for Tab, Enter in a field moves to the
next one (it never presses a button), Ctrl+S saves, Esc cancels (asking first
when something changed), Ctrl+M adds a member.  Problems appear beside the field
that has them (red text under the household fields, red cells with a tooltip in
the member table) as the clerk types, and clear as soon as the field is fixed;
after a save attempt a summary lists every problem, each a link to its field.
The rules themselves live in ``models.household`` and ``Registry``.
"""

from __future__ import annotations

import copy
import datetime as dt

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..models.errors import FieldError, MzError, ValidationError
from ..models.household import Household, Member, household_warnings
from ..models.registry import Registry
from ..models.store import Store
from ..models.vocab import vocab
from . import idcard_settings, ops
from .fields_dialog import ENTER_KEYS, enter_moves_on
from .household_fields import FIELDS, CauseBoxes, savings_fen
from .household_member import ERROR_STYLE, ChecksumHint, MemberDetail
from .problem_summary import ProblemSummary
from .saving import ask_to_save
from .screen_fit import fit_to_screen

ERROR_BG = QBrush(QColor("#fadbd8"))
WARN_BG = QBrush(QColor("#fdf2d0"))

# member table columns: (header, attribute, editable)
MEMBER_COLUMNS = [
    ("姓名", "name", True),
    ("与户主关系", "relation", True),
    ("身份证号", "id_number", True),
    ("性别", "gender", False),
    ("出生日期", "birth_date", False),
    ("健康状况", "health", True),
]
GENDER = {"M": "男", "F": "女"}
COL = {attr: i for i, (_, attr, _) in enumerate(MEMBER_COLUMNS)}


class ChoiceDelegate(QStyledItemDelegate):
    """A combo box editor for a code list cell (relation, health)."""

    def __init__(self, choices: list[str], parent=None):
        super().__init__(parent)
        self.choices = choices

    def createEditor(self, parent, option, index):
        box = QComboBox(parent)
        box.addItems(self.choices)
        return box

    def setEditorData(self, editor, index):
        value = index.data(Qt.ItemDataRole.EditRole) or ""
        i = editor.findText(value)
        editor.setCurrentIndex(max(i, 0))

    def setModelData(self, editor, model, index):
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class HouseholdDialog(QDialog):
    """Create (``household_id=None``) or edit one household."""

    saved = Signal(int)  # household id

    def __init__(
        self,
        store: Store,
        household_id: int | None = None,
        parent=None,
        today: dt.date | None = None,
    ):
        super().__init__(parent)
        self.store = store
        self.registry = Registry(store)
        self.today = today
        self.household = (
            self.registry.get(household_id, as_deleted=True)
            if household_id
            else Household(village="")
        )
        self.read_only = self.household.status != "active"
        self.members: list[Member] = [copy.deepcopy(m) for m in self.household.members]
        self._loading = True
        self._dirty = False
        self._attempted = False  # show every problem only after the first save attempt
        self._touched: set[tuple[str, int | None]] = set()
        self._current_member: int | None = None
        # problems only the form finds in a member's detail (text that does not parse),
        # by id() of the member in self.members: the form's, never stuck on the Member
        self._member_problems: dict[int, list[FieldError]] = {}
        title = f"家庭信息 · 编号 {household_id}" if household_id else "新建家庭"
        self.setWindowTitle(title + ("（已注销）" if self.read_only else ""))
        fit_to_screen(self, QSize(1000, 720))
        self._build()
        self._load()
        if self.read_only:
            self._make_read_only(self.registry.status_reason(household_id))
        self._loading = False
        self._validate_timer = QTimer(self, singleShot=True, interval=150)
        self._validate_timer.timeout.connect(self.validate_now)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        v = vocab()
        root = QVBoxLayout(self)
        self.banner = QLabel("")
        self.banner.setStyleSheet("background: #fadbd8; color: #7b241c; padding: 6px;")
        self.banner.setWordWrap(True)
        self.banner.hide()
        root.addWidget(self.banner)
        self.tabs = QTabWidget()
        basics = QWidget()
        outer = QVBoxLayout(basics)
        outer.setContentsMargins(4, 4, 4, 4)
        # long content scrolls: 保存/取消 stay on a 1366×768 screen (ui/screen_fit.py)
        self.basics_scroll = QScrollArea()
        self.basics_scroll.setWidget(basics)
        self.basics_scroll.setWidgetResizable(True)
        self.basics_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.tabs.addTab(self.basics_scroll, "基本信息")
        root.addWidget(self.tabs, 1)

        box = QGroupBox("家庭")
        grid = QGridLayout(box)
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        for field in FIELDS:
            widget = field.make(self.store)
            row, col = field.place
            lab = QLabel(field.label)
            if col is None:  # a whole row
                grid.addWidget(lab, row * 2, 0)
                grid.addWidget(widget, row * 2, 1, 1, 5)
            else:
                lab.setBuddy(widget)
                grid.addWidget(lab, row * 2, col * 2)
                grid.addWidget(widget, row * 2, col * 2 + 1)
            if field.error_label:
                err = QLabel("")
                err.setStyleSheet(ERROR_STYLE)
                err.setWordWrap(col is not None)
                err.hide()
                span = (1, 1, 5) if col is None else (col * 2 + 1, 1, 1)
                grid.addWidget(err, row * 2 + 1, *span)
                self.errors[field.key] = err
            if isinstance(widget, CauseBoxes):
                self.causes = widget
                self.cause_boxes = widget.boxes
                for cb in widget.boxes.values():
                    cb.toggled.connect(self._changed)
            else:
                self.fields[field.key] = widget
        outer.addWidget(box)

        for key, w in self.fields.items():
            if isinstance(w, QLineEdit):
                w.textEdited.connect(lambda _t, k=key: self._touch(k))
            elif isinstance(w, QComboBox):
                w.currentTextChanged.connect(lambda _t, k=key: self._touch(k))
            elif isinstance(w, QSpinBox):
                w.valueChanged.connect(lambda _v, k=key: self._touch(k))
            elif isinstance(w, QCheckBox):
                w.toggled.connect(lambda _v, k=key: self._touch(k))

        # members
        mbox = QGroupBox("家庭成员")
        ml = QVBoxLayout(mbox)
        self.table = QTableWidget(0, len(MEMBER_COLUMNS))
        self.table.setHorizontalHeaderLabels([c[0] for c in MEMBER_COLUMNS])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(COL["name"], 110)
        self.table.setColumnWidth(COL["relation"], 100)
        self.table.setColumnWidth(COL["id_number"], 190)
        self.table.setColumnWidth(COL["gender"], 50)
        self.table.setColumnWidth(COL["birth_date"], 100)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.AllEditTriggers
            & ~QAbstractItemView.EditTrigger.CurrentChanged
        )
        self.table.setItemDelegateForColumn(
            COL["relation"], ChoiceDelegate(v["relation"], self.table)
        )
        self.table.setItemDelegateForColumn(COL["health"], ChoiceDelegate(v["health"], self.table))
        self.table.itemChanged.connect(self._member_cell_changed)
        self.table.currentCellChanged.connect(lambda r, *_: self._show_member(r))
        self.table.setMinimumHeight(150)  # five members visible without scrolling
        ml.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.add_member_btn = QPushButton("添加成员 (Ctrl+M)")
        self.add_member_btn.clicked.connect(self.add_member)
        self.remove_member_btn = QPushButton("移除成员")
        self.remove_member_btn.clicked.connect(self.remove_member)
        for btn in (self.add_member_btn, self.remove_member_btn):
            btn.setAutoDefault(False)  # Enter in a field never adds or removes a member
        self.members_error = QLabel("")
        self.members_error.setStyleSheet(ERROR_STYLE)
        self.members_error.setWordWrap(True)
        self.detail_toggle = QToolButton()
        self.detail_toggle.setText("成员详情")
        self.detail_toggle.setCheckable(True)
        self.detail_toggle.setChecked(True)
        self.detail_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.detail_toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.detail_toggle.setToolTip("展开/收起成员详情")
        self.detail_toggle.toggled.connect(self.show_detail)
        row.addWidget(self.add_member_btn)
        row.addWidget(self.remove_member_btn)
        row.addWidget(self.detail_toggle)
        self.read_card_btn = idcard_settings.read_card_button(self)  # None: no reader
        if self.read_card_btn is not None:
            row.addWidget(self.read_card_btn)
        row.addWidget(self.members_error, 1)
        ml.addLayout(row)
        self.id_hint = ChecksumHint()  # the check character, once the digits were re-checked
        ml.addWidget(self.id_hint)
        self.detail = MemberDetail()
        self.detail.edited.connect(self._member_detail_changed)
        ml.addWidget(self.detail, 0)
        outer.addWidget(mbox, 1)

        self.warnings_label = QLabel("")
        self.warnings_label.setStyleSheet("color: #9a6700;")
        self.warnings_label.setWordWrap(True)
        root.addWidget(self.warnings_label)
        self.summary = ProblemSummary(self._focus_problem)
        root.addWidget(self.summary)
        self.buttons = QDialogButtonBox()
        self.save_btn = self.buttons.addButton(
            "保存 (Ctrl+S)", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_btn = self.buttons.addButton(
            "取消 (Esc)", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.save_btn.setDefault(True)
        self.cancel_btn.setAutoDefault(False)
        self.save_btn.clicked.connect(self.save)
        self.cancel_btn.clicked.connect(self.reject)
        root.addWidget(self.buttons)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        QShortcut(QKeySequence("Ctrl+M"), self, activated=self.add_member)

    def show_detail(self, shown: bool) -> None:
        """Expand or collapse the member detail (collapsed, the member table gets the room)."""
        self.detail_toggle.blockSignals(True)
        self.detail_toggle.setChecked(shown)
        self.detail_toggle.blockSignals(False)
        self.detail_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )
        self.detail.setVisible(shown)

    def _make_read_only(self, reason: str) -> None:
        """A deleted (注销) household is shown as it was, and cannot be saved."""
        self.banner.setText(f"该家庭已注销（原因：{reason or '未填写'}），仅供查看，不能修改。")
        self.banner.show()
        editors = [*self.fields.values(), *self.cause_boxes.values(), *self.detail.editors()]
        for w in editors:
            if isinstance(w, QLineEdit):
                w.setReadOnly(True)
            else:
                w.setEnabled(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for btn in (self.add_member_btn, self.remove_member_btn, self.save_btn):
            btn.setEnabled(False)
        self.save_btn.hide()
        self.cancel_btn.setText("关闭 (Esc)")

    def add_tab(self, title: str, widget: QWidget) -> None:
        """Another capability's panel for this household (enrolments, visits ...)."""
        self.tabs.addTab(widget, title)

    # ------------------------------------------------------------------ data in/out
    def _load(self) -> None:
        for field in FIELDS:
            field.load(self._widget(field.key), self.household)
        self.table.setRowCount(0)
        for m in self.members:
            self._append_row(m)
        if not self.members and not self.read_only:
            self.add_member(relation="户主", focus=False)
            self._dirty = False
        self.table.setCurrentCell(0, 0)
        self.fields["village"].setFocus()

    def _widget(self, key: str) -> QWidget:
        return self.causes if key == "causes" else self.fields[key]

    def _append_row(self, m: Member) -> None:
        r = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(r)
        for c, (_, attr, editable) in enumerate(MEMBER_COLUMNS):
            item = QTableWidgetItem(self._cell_text(m, attr))
            if not editable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(r, c, item)
        self.table.blockSignals(False)

    @staticmethod
    def _cell_text(m: Member, attr: str) -> str:
        value = getattr(m, attr)
        if value is None:
            return ""
        if isinstance(value, dt.date):
            return value.isoformat()
        if attr == "gender":
            return GENDER.get(value, value)
        return str(value)

    def collect(self) -> Household:
        """The household as the form shows it (no validation)."""
        h = copy.copy(self.household)
        for field in FIELDS:
            field.collect(self._widget(field.key), h)
        h.members = [copy.deepcopy(m) for m in self.members]
        return h

    def _form_problems(self, h: Household) -> list[FieldError]:
        """Problems only the form can find (text that is not a number or a date)."""
        problems = []
        try:
            savings_fen(self.fields["savings_fen"])
        except FieldError as exc:
            problems.append(exc)
        for i, m in enumerate(self.members):  # h.members are copies of these, in this order
            for p in self._member_problems.get(id(m), []):
                problems.append(FieldError(p.field, p.code, p.message, row=i))
        return problems

    # ------------------------------------------------------------------ members
    def add_member(self, relation: str = "", focus: bool = True) -> None:
        if self.read_only:
            return
        if not relation:
            relation = "户主" if not any(m.is_head for m in self.members) else "子"
        m = Member(name="", relation=relation)
        self.members.append(m)
        self._append_row(m)
        self._changed()
        r = self.table.rowCount() - 1
        self.table.setCurrentCell(r, COL["name"])
        if focus:
            self.table.setFocus()
            self.table.editItem(self.table.item(r, COL["name"]))

    def remove_member(self) -> None:
        if self.read_only:
            return
        r = self.table.currentRow()
        if r < 0 or r >= len(self.members):
            return
        m = self.members[r]
        name = m.name or f"第{r + 1}名成员"
        if m.id is not None:
            answer = QMessageBox.question(
                self, "移除成员", f"从该家庭移除{name}？\n（记录保留，可在历史中查到）"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._member_problems.pop(id(m), None)
        del self.members[r]
        self.table.removeRow(r)
        self._current_member = None
        self._show_member(self.table.currentRow())
        self._changed()

    def _member_cell_changed(self, item: QTableWidgetItem) -> None:
        r, c = item.row(), item.column()
        if self._loading or r >= len(self.members):
            return
        attr = MEMBER_COLUMNS[c][1]
        setattr(self.members[r], attr, item.text())
        if attr == "id_number":  # derived values are recomputed by validation
            self.members[r].gender = None
            self.members[r].birth_date = None
        self._touch(attr, r)

    def _show_member(self, r: int) -> None:
        self._current_member = None
        if r < 0 or r >= len(self.members):
            self.detail.setEnabled(False)
            self.detail.setTitle("成员详情")
            return
        m = self.members[r]
        loading, self._loading = self._loading, True
        self.detail.setEnabled(True)
        self.detail.setTitle(f"成员详情 · {m.name or f'第{r + 1}名'}")
        self.detail.show_member(m)
        self._loading = loading
        self._current_member = r
        self._refresh_member_detail_errors()

    def _member_detail_changed(self, *_args) -> None:
        if self._loading or self._current_member is None:
            return
        r = self._current_member
        m = self.members[r]
        self._member_problems[id(m)] = self.detail.apply_to(m)
        for fld in ("disability_cert", "deceased_on", "income", "id_number"):
            self._touched.add((fld, r))
        self._changed()

    # ------------------------------------------------------------------ validation
    def _touch(self, key: str, row: int | None = None) -> None:
        if self._loading:
            return
        self._touched.add((key, row))
        self._changed()
        if self._showing_problems():  # a fixed field loses its red text at once
            self._validate_timer.stop()
            self.validate_now()

    def _showing_problems(self) -> bool:
        return (
            any(lab.isVisibleTo(self) for lab in self.errors.values())
            or bool(self.members_error.text())
            or bool(self.summary.problems)
        )

    def _changed(self, *_args) -> None:
        if self._loading or self.read_only:
            return
        self._dirty = True
        self._validate_timer.start()

    def is_dirty(self) -> bool:
        return self._dirty

    def validate_now(self) -> list[FieldError]:
        """Check the form as it stands; show problems beside their fields."""
        h = self.collect()
        problems = self._form_problems(h)
        try:
            problems += self.registry.validate(h, self.today)
        except MzError as exc:  # pragma: no cover - defensive, shown to the user
            problems.append(FieldError("members", exc.code, str(exc)))
        # derived values (normalised ID, gender, birth date) back into the table
        self._loading = True
        for r, (m, checked) in enumerate(zip(self.members, h.members, strict=True)):
            if checked.gender and checked.birth_date:
                m.gender, m.birth_date = checked.gender, checked.birth_date
                self.table.item(r, COL["gender"]).setText(GENDER.get(m.gender, m.gender))
                self.table.item(r, COL["birth_date"]).setText(m.birth_date.isoformat())
        self._loading = False
        self._show_problems(problems, household_warnings(h, self.today))
        return problems

    def _visible(self, p: FieldError) -> bool:
        return (
            self._attempted
            or (p.field, p.row) in self._touched
            or (p.field in ("members",) and any(k == "relation" for k, _ in self._touched))
        )

    def _show_problems(self, problems: list[FieldError], warnings: list[FieldError]) -> None:
        self.problems = problems
        for key, lab in self.errors.items():
            msgs = [p.message for p in problems if p.field == key and p.row is None]
            msgs = msgs if (self._attempted or (key, None) in self._touched) else []
            lab.setText("；".join(msgs))
            lab.setVisible(bool(msgs))
        by_cell: dict[tuple[int, int], list[str]] = {}
        row_msgs: dict[int, list[str]] = {}
        for p in problems:
            if p.row is None or not self._visible(p):
                continue
            col = COL.get(p.field)
            if col is None:
                row_msgs.setdefault(p.row, []).append(p.message)
            else:
                by_cell.setdefault((p.row, col), []).append(p.message)
        warned = {(w.row, COL.get(w.field)) for w in warnings if w.row is not None}
        self._paint_cells(by_cell, warned)
        self.id_hint.show_rows(
            [
                (id(self.members[p.row]), p.row, self.members[p.row].id_number or "")
                for p in problems
                if p.code == "id_checksum"
                and p.row is not None
                and p.row < len(self.members)
                and self._visible(p)
            ]
        )
        general = [p.message for p in problems if p.field == "members" and self._visible(p)]
        cell_lines = [
            f"第{r + 1}名成员：{'；'.join(ms)}" for (r, _c), ms in sorted(by_cell.items())
        ] + [f"第{r + 1}名成员：{'；'.join(ms)}" for r, ms in sorted(row_msgs.items())]
        self.members_error.setText("\n".join(general + cell_lines))
        self.warnings_label.setText(
            "提示：" + "；".join(w.message for w in warnings) if warnings else ""
        )
        self.summary.show_problems(
            [p for p in problems if self._visible(p)] if self._attempted else []
        )
        self._refresh_member_detail_errors()

    def _paint_cells(self, errors: dict[tuple[int, int], list[str]], warned: set) -> None:
        """Member cells with a problem red (its messages as tooltip), with a warning amber."""
        self.table.blockSignals(True)
        for r in range(self.table.rowCount()):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                msgs = errors.get((r, c), [])
                if msgs:
                    item.setBackground(ERROR_BG)
                    item.setToolTip("；".join(msgs))
                else:
                    item.setBackground(WARN_BG if (r, c) in warned else QBrush())
                    item.setToolTip("")
        self.table.blockSignals(False)

    def _refresh_member_detail_errors(self) -> None:
        r = self._current_member
        problems = getattr(self, "problems", [])
        shown: dict[str, list[str]] = {}
        for fld in ("disability_cert", "deceased_on", "income"):
            msgs = [p.message for p in problems if p.field == fld and p.row == r and r is not None]
            shown[fld] = msgs if self._attempted or (fld, r) in self._touched else []
        self.detail.show_errors(shown)

    # ------------------------------------------------------------------ save / close
    def save(self) -> bool:
        if self.read_only:
            return False
        self._attempted = True
        # commit an open cell editor first
        self.table.setCurrentCell(self.table.currentRow(), self.table.currentColumn())
        problems = self.validate_now()
        if problems:
            first = problems[0]
            self._focus_problem(first)
            return False
        collected = self.collect()
        done = ops.run(
            self, lambda: self.registry.save(collected, self.today), on_error=self._refused
        )
        if not done:
            return False
        h = done.value
        self.household = h
        self.members = [copy.deepcopy(m) for m in h.members]
        self._member_problems.clear()
        self._dirty = False
        self.saved.emit(h.id)
        self.accept()
        return True

    def _refused(self, exc: MzError) -> None:
        if isinstance(exc, ValidationError):
            self._show_problems(exc.problems, [])
        else:
            ops.show_error(self, "无法保存", exc)

    def _focus_problem(self, p: FieldError) -> None:
        self.tabs.setCurrentWidget(self.basics_scroll)
        if p.row is not None and p.row < self.table.rowCount():
            col = COL.get(p.field, COL["name"])
            self.table.setCurrentCell(p.row, col)
            self.table.setFocus()
            if p.field in ("disability_cert", "deceased_on", "income"):
                self.show_detail(True)
            self.basics_scroll.ensureWidgetVisible(self.table)
        elif p.field in self.fields:
            self.fields[p.field].setFocus()
            self.basics_scroll.ensureWidgetVisible(self.fields[p.field])
        elif p.field == "causes":
            self.basics_scroll.ensureWidgetVisible(self.causes)

    def keyPressEvent(self, event) -> None:
        """Enter in a field moves to the next field; it never saves nor adds a member."""
        focus = self.focusWidget()
        if focus is not None and (focus is self.table or self.table.isAncestorOf(focus)):
            if event.key() in ENTER_KEYS:
                return  # the member table handles its own Enter (edit / commit)
        if not enter_moves_on(self, event, None, self.save):
            super().keyPressEvent(event)

    def reject(self) -> None:
        if self._dirty:
            answer = ask_to_save(self, "未保存的修改", "该家庭有未保存的修改。保存吗？")
            if answer == QMessageBox.StandardButton.Cancel:
                return
            if answer == QMessageBox.StandardButton.Save:
                self.save()
                return
        super().reject()

    def hideEvent(self, event) -> None:
        self._validate_timer.stop()  # no validation against a store that may be closing
        super().hideEvent(event)

    def closeEvent(self, event) -> None:  # window close button goes through the same guard
        if self._dirty and self.isVisible():
            event.ignore()
            self.reject()
        else:
            super().closeEvent(event)
