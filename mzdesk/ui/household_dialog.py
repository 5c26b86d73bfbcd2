"""Household form (家庭信息): intake and editing of a household with its members.

Keyboard first: fields in reading order for Tab, Ctrl+S saves, Enter on a
field saves, Esc cancels (asking first when something changed), Ctrl+M adds
a member.  Problems appear beside the field that has them (red text under the
household fields, red cells with a tooltip in the member table) as the clerk
types; the rules themselves live in ``models.household`` and ``Registry``.
"""

from __future__ import annotations

import copy
import datetime as dt

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..models.errors import FieldError, MzError, ValidationError
from ..models.household import Household, Member, household_warnings
from ..models.money import format_fen, parse_yuan
from ..models.query import villages
from ..models.registry import Registry
from ..models.store import Store
from ..models.vocab import INCOME_SOURCES, vocab
from .saving import ask_to_save

ERROR_STYLE = "color: #c0392b;"
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


def _parse_date(text: str, field: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FieldError(field, "bad_date", "日期格式应为 YYYY-MM-DD") from None


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
        title = f"家庭信息 · 编号 {household_id}" if household_id else "新建家庭"
        self.setWindowTitle(title + ("（已注销）" if self.read_only else ""))
        self.resize(1000, 720)
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
        self.tabs.addTab(basics, "基本信息")
        root.addWidget(self.tabs, 1)

        box = QGroupBox("家庭")
        grid = QGridLayout(box)
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}

        def add(row: int, col: int, key: str, text: str, widget: QWidget) -> None:
            lab = QLabel(text)
            lab.setBuddy(widget)
            grid.addWidget(lab, row * 2, col * 2)
            grid.addWidget(widget, row * 2, col * 2 + 1)
            err = QLabel("")
            err.setStyleSheet(ERROR_STYLE)
            err.setWordWrap(True)
            err.hide()
            grid.addWidget(err, row * 2 + 1, col * 2 + 1)
            self.fields[key] = widget
            self.errors[key] = err

        village = QComboBox()
        village.setEditable(True)
        village.addItems(villages(self.store))
        village.setCurrentText("")
        village.lineEdit().setPlaceholderText("必填")
        add(0, 0, "village", "村(社区)*", village)
        add(0, 1, "village_group", "组", QLineEdit())
        area = QComboBox()
        for code, text in v["area_type"].items():
            area.addItem(text, code)
        add(0, 2, "area_type", "城乡", area)
        add(1, 0, "address", "住址", QLineEdit())
        phone = QLineEdit()
        phone.setPlaceholderText("手机或固话")
        add(1, 1, "phone", "联系电话", phone)
        add(1, 2, "bank_name", "开户银行", QLineEdit())
        add(2, 0, "bank_account", "银行账号", QLineEdit())
        tenure = QComboBox()
        tenure.addItem("", "")
        for code, text in v["housing_tenure"].items():
            tenure.addItem(text, code)
        add(2, 1, "housing_tenure", "住房情况", tenure)
        structure = QComboBox()
        structure.addItems(["", *v["housing_structure"]])
        add(2, 2, "housing_structure", "房屋结构", structure)
        area_m2 = QSpinBox()
        area_m2.setRange(0, 2000)
        area_m2.setSuffix(" ㎡")
        add(3, 0, "housing_area_m2", "住房面积", area_m2)
        add(3, 1, "dangerous_house", "危房", QCheckBox("是"))
        savings = QLineEdit()
        savings.setPlaceholderText("元")
        add(3, 2, "savings_fen", "存款(元)", savings)
        causes = QWidget()
        cl = QHBoxLayout(causes)
        cl.setContentsMargins(0, 0, 0, 0)
        self.cause_boxes: dict[str, QCheckBox] = {}
        for code, text in v["causes"].items():
            cb = QCheckBox(text)
            self.cause_boxes[code] = cb
            cl.addWidget(cb)
            cb.toggled.connect(self._changed)
        cl.addStretch(1)
        grid.addWidget(QLabel("致困原因"), 8, 0)
        grid.addWidget(causes, 8, 1, 1, 5)
        err = QLabel("")
        err.setStyleSheet(ERROR_STYLE)
        err.hide()
        grid.addWidget(err, 9, 1, 1, 5)
        self.errors["causes"] = err
        notes = QLineEdit()
        grid.addWidget(QLabel("备注"), 10, 0)
        grid.addWidget(notes, 10, 1, 1, 5)
        self.fields["notes"] = notes
        outer.addWidget(box)

        for key, w in self.fields.items():
            if isinstance(w, QLineEdit):
                w.textEdited.connect(lambda _t, k=key: self._touch(k))
                w.returnPressed.connect(self.save)
            elif isinstance(w, QComboBox):
                w.currentTextChanged.connect(lambda _t, k=key: self._touch(k))
                if w.isEditable():
                    w.lineEdit().returnPressed.connect(self.save)
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
        self.members_error = QLabel("")
        self.members_error.setStyleSheet(ERROR_STYLE)
        self.members_error.setWordWrap(True)
        row.addWidget(self.add_member_btn)
        row.addWidget(self.remove_member_btn)
        row.addWidget(self.members_error, 1)
        ml.addLayout(row)
        ml.addWidget(self._build_member_detail(), 0)
        outer.addWidget(mbox, 1)

        self.warnings_label = QLabel("")
        self.warnings_label.setStyleSheet("color: #9a6700;")
        self.warnings_label.setWordWrap(True)
        root.addWidget(self.warnings_label)
        self.buttons = QDialogButtonBox()
        self.save_btn = self.buttons.addButton(
            "保存 (Ctrl+S)", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_btn = self.buttons.addButton(
            "取消 (Esc)", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.save_btn.setDefault(True)
        self.save_btn.clicked.connect(self.save)
        self.cancel_btn.clicked.connect(self.reject)
        root.addWidget(self.buttons)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        QShortcut(QKeySequence("Ctrl+M"), self, activated=self.add_member)

    def _build_member_detail(self) -> QWidget:
        v = vocab()
        self.detail = QGroupBox("成员详情")
        form = QGridLayout(self.detail)
        self.m_pending = QCheckBox("身份证号待核实（暂无或无法核对）")
        self.m_cert = QLineEdit()
        self.m_cert.setPlaceholderText("残疾人证号：身份证号+类别+等级，如 …X42")
        self.m_cert_err = QLabel("")
        self.m_cert_err.setStyleSheet(ERROR_STYLE)
        self.m_labour = QComboBox()
        self.m_labour.addItems(["", *v["labour_capacity"]])
        self.m_occupation = QComboBox()
        self.m_occupation.addItems(["", *v["occupation"]])
        self.m_deceased = QLineEdit()
        self.m_deceased.setPlaceholderText("YYYY-MM-DD，在世留空")
        self.m_deceased_err = QLabel("")
        self.m_deceased_err.setStyleSheet(ERROR_STYLE)
        self.m_in_assistance = QCheckBox("计入保障人口")
        form.addWidget(self.m_pending, 0, 0, 1, 2)
        form.addWidget(self.m_in_assistance, 0, 2, 1, 2)
        form.addWidget(QLabel("残疾人证号"), 1, 0)
        form.addWidget(self.m_cert, 1, 1, 1, 3)
        form.addWidget(self.m_cert_err, 2, 1, 1, 3)
        form.addWidget(QLabel("劳动能力"), 3, 0)
        form.addWidget(self.m_labour, 3, 1)
        form.addWidget(QLabel("就学就业"), 3, 2)
        form.addWidget(self.m_occupation, 3, 3)
        form.addWidget(QLabel("死亡日期"), 4, 0)
        form.addWidget(self.m_deceased, 4, 1)
        form.addWidget(self.m_deceased_err, 4, 2, 1, 2)
        income = QGroupBox("月收入（元）")
        il = QFormLayout(income)
        self.m_income: dict[str, QLineEdit] = {}
        for src in INCOME_SOURCES:
            e = QLineEdit()
            e.setPlaceholderText("0")
            self.m_income[src] = e
            il.addRow(vocab()["income"][src], e)
            e.textEdited.connect(self._member_detail_changed)
        self.m_income_err = QLabel("")
        self.m_income_err.setStyleSheet(ERROR_STYLE)
        il.addRow(self.m_income_err)
        form.addWidget(income, 0, 4, 6, 1)
        special = QGroupBox("特殊身份")
        sl = QVBoxLayout(special)
        self.m_special: dict[str, QCheckBox] = {}
        for code, text in v["special"].items():
            cb = QCheckBox(text)
            self.m_special[code] = cb
            sl.addWidget(cb)
            cb.toggled.connect(self._member_detail_changed)
        form.addWidget(special, 0, 5, 6, 1)
        for w in (self.m_cert, self.m_deceased):
            w.textEdited.connect(self._member_detail_changed)
        for w in (self.m_labour, self.m_occupation):
            w.currentTextChanged.connect(self._member_detail_changed)
        for w in (self.m_pending, self.m_in_assistance):
            w.toggled.connect(self._member_detail_changed)
        form.setRowStretch(5, 1)  # spare height goes below the fields, not between them
        self.detail.setEnabled(False)
        return self.detail

    def _make_read_only(self, reason: str) -> None:
        """A deleted (注销) household is shown as it was, and cannot be saved."""
        self.banner.setText(f"该家庭已注销（原因：{reason or '未填写'}），仅供查看，不能修改。")
        self.banner.show()
        editors = [*self.fields.values(), *self.cause_boxes.values(), self.m_pending,
                   self.m_in_assistance, self.m_cert, self.m_labour, self.m_occupation,
                   self.m_deceased, *self.m_income.values(), *self.m_special.values()]  # fmt: skip
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
        h = self.household
        f = self.fields
        f["village"].setCurrentText(h.village)
        f["village_group"].setText(h.village_group)
        f["area_type"].setCurrentIndex(max(f["area_type"].findData(h.area_type), 0))
        f["address"].setText(h.address)
        f["phone"].setText(h.phone)
        f["bank_name"].setText(h.bank_name)
        f["bank_account"].setText(h.bank_account)
        f["housing_tenure"].setCurrentIndex(max(f["housing_tenure"].findData(h.housing_tenure), 0))
        f["housing_structure"].setCurrentText(h.housing_structure)
        f["housing_area_m2"].setValue(h.housing_area_m2 or 0)
        f["dangerous_house"].setChecked(h.dangerous_house)
        f["savings_fen"].setText(format_fen(h.savings_fen) if h.savings_fen else "")
        f["notes"].setText(h.notes)
        for code, cb in self.cause_boxes.items():
            cb.setChecked(code in h.causes)
        self.table.setRowCount(0)
        for m in self.members:
            self._append_row(m)
        if not self.members and not self.read_only:
            self.add_member(relation="户主", focus=False)
            self._dirty = False
        self.table.setCurrentCell(0, 0)
        f["village"].setFocus()

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
        f = self.fields
        h = copy.copy(self.household)
        h.village = f["village"].currentText()
        h.village_group = f["village_group"].text()
        h.area_type = f["area_type"].currentData()
        h.address = f["address"].text().strip()
        h.phone = f["phone"].text()
        h.bank_name = f["bank_name"].text().strip()
        h.bank_account = f["bank_account"].text()
        h.housing_tenure = f["housing_tenure"].currentData() or ""
        h.housing_structure = f["housing_structure"].currentText()
        h.housing_area_m2 = f["housing_area_m2"].value() or None
        h.dangerous_house = f["dangerous_house"].isChecked()
        try:
            h.savings_fen = self._savings_fen()
        except FieldError:
            pass  # reported by _form_problems; the stored value stays until it parses
        h.notes = f["notes"].text().strip()
        h.causes = [c for c, cb in self.cause_boxes.items() if cb.isChecked()]
        h.members = [copy.deepcopy(m) for m in self.members]
        return h

    def _savings_fen(self) -> int:
        text = self.fields["savings_fen"].text().strip()
        return parse_yuan(text, "savings_fen") if text else 0

    def _form_problems(self, h: Household) -> list[FieldError]:
        """Problems only the form can find (text that is not a number or a date)."""
        problems = []
        try:
            self._savings_fen()
        except FieldError as exc:
            problems.append(exc)
        for i, m in enumerate(h.members):
            for p in getattr(m, "_form_problems", []):
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
        self.m_pending.setChecked(m.id_pending)
        self.m_in_assistance.setChecked(m.in_assistance)
        self.m_cert.setText(m.disability_cert)
        self.m_labour.setCurrentText(m.labour_capacity)
        self.m_occupation.setCurrentText(m.occupation)
        self.m_deceased.setText(m.deceased_on.isoformat() if m.deceased_on else "")
        for src, e in self.m_income.items():
            fen = m.income.get(src)
            e.setText(format_fen(fen) if fen else "")
        for code, cb in self.m_special.items():
            cb.setChecked(code in m.special)
        self._loading = loading
        self._current_member = r
        self._refresh_member_detail_errors()

    def _member_detail_changed(self, *_args) -> None:
        if self._loading or self._current_member is None:
            return
        r = self._current_member
        m = self.members[r]
        m.id_pending = self.m_pending.isChecked()
        m.in_assistance = self.m_in_assistance.isChecked()
        m.disability_cert = self.m_cert.text().strip()
        m.labour_capacity = self.m_labour.currentText()
        m.occupation = self.m_occupation.currentText()
        form_problems = []
        try:
            m.deceased_on = _parse_date(self.m_deceased.text(), "deceased_on")
        except FieldError as exc:
            form_problems.append(exc)
        income = {}
        for src, e in self.m_income.items():
            text = e.text().strip()
            if not text:
                continue
            try:
                fen = parse_yuan(text, "income")
            except FieldError as exc:
                form_problems.append(
                    FieldError("income", exc.code, f"{vocab()['income'][src]}: {exc.message}")
                )
            else:
                if fen:
                    income[src] = fen
        m.income = income
        m.special = [c for c, cb in self.m_special.items() if cb.isChecked()]
        m._form_problems = form_problems  # type: ignore[attr-defined]
        for fld in ("disability_cert", "deceased_on", "income", "id_number"):
            self._touched.add((fld, r))
        self._changed()

    # ------------------------------------------------------------------ validation
    def _touch(self, key: str, row: int | None = None) -> None:
        if self._loading:
            return
        self._touched.add((key, row))
        self._changed()

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
        # member table
        self.table.blockSignals(True)
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
        warn_cells = {(w.row, COL.get(w.field)) for w in warnings if w.row is not None}
        for r in range(self.table.rowCount()):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                msgs = by_cell.get((r, c), [])
                if msgs:
                    item.setBackground(ERROR_BG)
                    item.setToolTip("；".join(msgs))
                elif (r, c) in warn_cells:
                    item.setBackground(WARN_BG)
                    item.setToolTip("")
                else:
                    item.setBackground(QBrush())
                    item.setToolTip("")
        self.table.blockSignals(False)
        general = [p.message for p in problems if p.field == "members" and self._visible(p)]
        cell_lines = [
            f"第{r + 1}名成员：{'；'.join(ms)}" for (r, _c), ms in sorted(by_cell.items())
        ] + [f"第{r + 1}名成员：{'；'.join(ms)}" for r, ms in sorted(row_msgs.items())]
        self.members_error.setText("\n".join(general + cell_lines))
        self.warnings_label.setText(
            "提示：" + "；".join(w.message for w in warnings) if warnings else ""
        )
        self._refresh_member_detail_errors()

    def _refresh_member_detail_errors(self) -> None:
        r = self._current_member
        problems = getattr(self, "problems", [])
        for fld, lab in (
            ("disability_cert", self.m_cert_err),
            ("deceased_on", self.m_deceased_err),
            ("income", self.m_income_err),
        ):
            msgs = [p.message for p in problems if p.field == fld and p.row == r and r is not None]
            msgs = msgs if self._attempted or (fld, r) in self._touched else []
            lab.setText("；".join(msgs))

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
        h = self.collect()
        try:
            h = self.registry.save(h, self.today)
        except ValidationError as exc:
            self._show_problems(exc.problems, [])
            return False
        except MzError as exc:
            QMessageBox.warning(self, "无法保存", str(exc))
            return False
        self.household = h
        self.members = [copy.deepcopy(m) for m in h.members]
        self._dirty = False
        self.saved.emit(h.id)
        self.accept()
        return True

    def _focus_problem(self, p: FieldError) -> None:
        if p.row is not None and p.row < self.table.rowCount():
            col = COL.get(p.field, COL["name"])
            self.table.setCurrentCell(p.row, col)
            self.table.setFocus()
        elif p.field in self.fields:
            self.fields[p.field].setFocus()

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
