"""A form generated from a template (表单): one editor per field, in template order.

The widget only collects what was typed and shows problems; the rules live in
:func:`mzdesk.models.forms.validate_answers`.  Tab moves through the fields
in reading order (a text area passes Tab on instead of inserting it);
conditional fields appear when their condition holds.

>>> # FormWidget(library().latest("home_visit"), members={"uid": "张三"})
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models.errors import FieldError
from ..models.forms import Field, Template, validate_answers
from ..models.money import format_fen

ERROR_STYLE = "color: #c0392b;"
BOXES_PER_ROW = 7  # check boxes (members, options) wrap: a household of ten must fit
AUTO_NOTE = {
    "household": "家庭基本情况按登记信息自动打印。",
    "members": "家庭成员按登记信息自动打印。",
    "enrolments": "已享受的救助政策按在册救助记录自动打印。",
    "visits": "走访记录按入户调查记录自动打印。",
}


class _Editor:
    """One field's widgets: ``get()`` returns what validate_answers accepts."""

    def __init__(self, f: Field, members: dict[str, str], on_change):
        self.field = f
        self.focusables: list[QWidget] = []
        self.widget = self._build(f, members, on_change)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()

    def _build(self, f: Field, members: dict[str, str], on_change) -> QWidget:
        t = f.type
        if t in ("text", "number", "money", "date", "signature"):
            w = QLineEdit()
            w.setPlaceholderText(
                {"money": "元", "date": "年-月-日，如 2026-03-01", "signature": "签字人姓名"}.get(
                    t, ""
                )
            )
            w.textChanged.connect(on_change)
            self.focusables = [w]
            return w
        if t == "textarea":
            w = QPlainTextEdit()
            w.setTabChangesFocus(True)
            w.setFixedHeight(64)
            w.textChanged.connect(on_change)
            self.focusables = [w]
            return w
        if t in ("single", "yesno") or (t == "member" and not f.multiple):
            w = QComboBox()
            w.addItem("", None)
            if t == "yesno":
                w.addItem("是", True)
                w.addItem("否", False)
            elif t == "member":
                for uid, name in members.items():
                    w.addItem(name, uid)
            else:
                for o in f.options:
                    w.addItem(o, o)
            w.currentIndexChanged.connect(on_change)
            self.focusables = [w]
            return w
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        if t == "check":
            self.group = QButtonGroup(box)
            for o in f.choices:
                b = QRadioButton(o)
                b.setProperty("value", o)
                self.group.addButton(b)
                row.addWidget(b)
                self.focusables.append(b)
            self.group.buttonToggled.connect(lambda *_: on_change())
        elif t in ("multiple", "member"):
            items = members.items() if t == "member" else ((o, o) for o in f.options)
            grid = QGridLayout()
            grid.setContentsMargins(0, 0, 0, 0)
            for i, (value, text) in enumerate(items):
                b = QCheckBox(text)
                b.setProperty("value", value)
                b.toggled.connect(on_change)
                grid.addWidget(b, i // BOXES_PER_ROW, i % BOXES_PER_ROW)
                self.focusables.append(b)
            row.addLayout(grid)
        elif t == "table":
            col = QVBoxLayout()
            table = QTableWidget(0, len(f.columns))
            table.setHorizontalHeaderLabels([c.label for c in f.columns])
            table.horizontalHeader().setStretchLastSection(True)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.setMinimumHeight(110)
            table.itemChanged.connect(on_change)
            table.setTabKeyNavigation(False)
            add, remove = QPushButton("添加一行"), QPushButton("删除选中行")
            for b in (add, remove):  # Enter in a field never presses them
                b.setAutoDefault(False)
            add.clicked.connect(lambda: table.insertRow(table.rowCount()))
            remove.clicked.connect(lambda: (table.removeRow(table.currentRow()), on_change()))
            buttons = QHBoxLayout()
            buttons.addWidget(add)
            buttons.addWidget(remove)
            buttons.addStretch(1)
            col.addWidget(table)
            col.addLayout(buttons)
            row.addLayout(col)
            self.table = table
            self.focusables = [table, add, remove]
            return box
        row.addStretch(1)
        return box

    # -- values ---------------------------------------------------------------
    def get(self):
        f, w = self.field, self.widget
        if isinstance(w, QLineEdit):
            return w.text().strip()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText().strip()
        if isinstance(w, QComboBox):
            return w.currentData()
        if f.type == "check":
            b = self.group.checkedButton()
            return b.property("value") if b else None
        if f.type == "table":
            rows = []
            for r in range(self.table.rowCount()):
                row = {}
                for c, col in enumerate(f.columns):
                    item = self.table.item(r, c)
                    row[col.key] = item.text().strip() if item else ""
                rows.append(row)
            return rows
        values = [b.property("value") for b in self.focusables if b.isChecked()]
        return values if (f.type == "multiple" or f.multiple) else (values[0] if values else None)

    def set(self, value) -> None:
        f, w = self.field, self.widget
        if isinstance(w, QLineEdit):
            if f.type == "money" and isinstance(value, int):
                value = format_fen(value)
            w.setText("" if value is None else str(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(value or "")
        elif isinstance(w, QComboBox):
            i = w.findData(value) if value is not None else 0
            w.setCurrentIndex(max(i, 0))
        elif f.type == "check":
            for b in self.focusables:
                b.setChecked(b.property("value") == value)
        elif f.type == "table":
            self.table.setRowCount(0)
            for r, row in enumerate(value or []):
                self.table.insertRow(r)
                for c, col in enumerate(f.columns):
                    v = row.get(col.key, "")
                    text = format_fen(v) if col.type == "money" and isinstance(v, int) else str(v)
                    self.table.setItem(r, c, QTableWidgetItem(text))
        else:
            chosen = value if isinstance(value, list) else ([value] if value else [])
            for b in self.focusables:
                b.setChecked(b.property("value") in chosen)


class FormWidget(QScrollArea):
    """Editors for every field of ``template``; ``members`` maps uid -> name."""

    changed = Signal()

    def __init__(
        self,
        template: Template,
        members: dict[str, str] | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.template = template
        self.members = dict(members or {})
        self.editors: dict[str, _Editor] = {}
        self._rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        self._loading = False
        body = QWidget()
        outer = QVBoxLayout(body)
        for s in template.sections:
            box = QGroupBox(s.title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            if s.auto:
                note = QLabel(AUTO_NOTE[s.auto])
                note.setStyleSheet("color: #666;")
                form.addRow(note)
            for f in s.fields:
                ed = _Editor(f, self.members, self._on_change)
                self.editors[f.key] = ed
                cell = QWidget()
                col = QVBoxLayout(cell)
                col.setContentsMargins(0, 0, 0, 0)
                col.setSpacing(1)
                col.addWidget(ed.widget)
                if f.help:
                    h = QLabel(f.help)
                    h.setStyleSheet("color: #666; font-size: 11px;")
                    col.addWidget(h)
                col.addWidget(ed.error)
                label = QLabel(f.label + (" *" if f.required else ""))
                label.setToolTip(f.help)
                if ed.focusables:
                    label.setBuddy(ed.focusables[0])
                form.addRow(label, cell)
                self._rows[f.key] = (form, cell)
            if form.rowCount():
                outer.addWidget(box)
        outer.addStretch(1)
        self.setWidget(body)
        self.setWidgetResizable(True)
        self._chain_tab_order()
        self._update_visibility()

    def _chain_tab_order(self) -> None:
        chain = [w for ed in self.editors.values() for w in ed.focusables]
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)

    def focus_order(self) -> list[QWidget]:
        return [w for ed in self.editors.values() for w in ed.focusables]

    # -- values ---------------------------------------------------------------
    def raw_answers(self) -> dict:
        return {k: ed.get() for k, ed in self.editors.items()}

    def answers(self) -> dict:
        """What was typed, for the visible fields that have a value."""
        raw = self.raw_answers()
        out = {}
        for f in self.template.fields():
            v = raw[f.key]
            if v in (None, "", []) or not self.template.visible(f, raw):
                continue
            out[f.key] = v
        return out

    def set_answers(self, answers: dict) -> None:
        self._loading = True
        try:
            for k, ed in self.editors.items():
                ed.set(answers.get(k))
        finally:
            self._loading = False
        self._update_visibility()
        self.show_problems([])

    def editor(self, key: str) -> QWidget:
        return self.editors[key].widget

    def set_value(self, key: str, value) -> None:
        """Fill one field as a user would (tests, pre-filling)."""
        self.editors[key].set(value)

    # -- checking -------------------------------------------------------------
    def validate(self, today: dt.date | None = None) -> tuple[dict, list[FieldError]]:
        clean, problems = validate_answers(self.template, self.answers(), self.members, today)
        self.show_problems(problems)
        return clean, problems

    def show_problems(self, problems: list[FieldError]) -> None:
        by_field: dict[str, list[str]] = {}
        for p in problems:
            by_field.setdefault(p.field, []).append(p.message)
        for k, ed in self.editors.items():
            msgs = by_field.get(k)
            ed.error.setText("；".join(msgs) if msgs else "")
            ed.error.setVisible(bool(msgs))
        first = next((k for k in self.editors if k in by_field), None)
        if first and self.editors[first].focusables:
            self.ensureWidgetVisible(self.editors[first].widget)

    def _on_change(self, *_args) -> None:
        if self._loading:
            return
        self._update_visibility()
        self.changed.emit()

    def _update_visibility(self) -> None:
        raw = self.raw_answers()
        for f in self.template.fields():
            if f.show_if:
                form, cell = self._rows[f.key]
                form.setRowVisible(cell, self.template.visible(f, raw))

    def is_shown(self, key: str) -> bool:
        form, cell = self._rows[key]
        return form.isRowVisible(cell)
