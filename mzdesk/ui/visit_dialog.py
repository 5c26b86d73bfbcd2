"""Home-visit dialog (入户调查/核查): date, investigators, the checklist form,
photos, conclusion and the representative's acknowledgement; save and print.

The rules (two investigators, required items, notes on 不符合, follow-up
tasks) live in :class:`mzdesk.models.visits.Visits`; problems come back as a
:class:`ValidationError` and are shown beside the fields.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..models.auth import allowed
from ..models.consistency import (
    CHECK_LABELS,
    checklist_prefill,
    differences,
    household_warnings,
    open_difference_tasks,
    registered_values,
    with_prefill,
)
from ..models.errors import FieldError, MzError, ValidationError
from ..models.registry import Registry
from ..models.store import Store
from ..models.visits import CONCLUSIONS, VISIT_KINDS, Visit, Visits, load_photo, visit_members
from . import file_dialogs, ops
from .form_widget import ERROR_STYLE, FormWidget
from .saving import AsksBeforeClosing, ask_save_path, save_reporting
from .screen_fit import fit_to_screen

VISIT_FIELDS = ("visit_date", "investigators", "kind", "conclusion", "representative", "photos")


class VisitDialog(AsksBeforeClosing, QDialog):
    """Record or edit one visit of one household."""

    unsaved_title = "未保存的入户记录"
    unsaved_text = "本次入户记录有未保存的内容。保存吗？"

    saved = Signal(int)  # visit id

    def __init__(
        self,
        store: Store,
        household_id: int,
        visit_id: int | None = None,
        parent: QWidget | None = None,
        today: dt.date | None = None,
        kind: str = "verification",
    ):
        super().__init__(parent)
        self.store = store
        self.today = today or dt.date.today()
        self.visits = Visits(store)
        self.household = Registry(store).get(household_id)
        if visit_id is None:
            allowed = self.visits.kinds()
            if kind not in allowed and allowed:  # a county reviewer records 抽查复核 only
                kind = next(iter(allowed))
            self.visit = Visit(household_id, self.today, [], kind=kind)
        else:
            self.visit = self.visits.get(visit_id)
        self.template = self.visits.template(self.visit)
        head = self.household.head
        self.setWindowTitle(f"入户调查/核查 — {head.name if head else ''} {self.household.village}")
        fit_to_screen(self, QSize(900, 760))
        self._build()
        self._load()
        self._saved_state = self._state()

    # -- layout ---------------------------------------------------------------
    def _build(self) -> None:
        top = QGroupBox("入户情况")
        grid = QFormLayout(top)
        self.date_edit = QLineEdit()
        self.date_edit.setPlaceholderText("2026-03-01")
        self.kind_box = QComboBox()
        kinds = self.visits.kinds()  # what this operator may record (county: 抽查复核)
        for code, name in VISIT_KINDS.items():
            if code in kinds or code == self.visit.kind:
                self.kind_box.addItem(name, code)
        self.inv_edits = [QLineEdit(), QLineEdit(), QLineEdit()]
        self.inv_edits[2].setPlaceholderText("其他调查人员（可选，多人用、分隔）")
        inv_row = QHBoxLayout()
        for e in self.inv_edits:
            inv_row.addWidget(e)
        self.errors: dict[str, QLabel] = {}
        grid.addRow("入户日期 *", self._with_error("visit_date", self.date_edit))
        grid.addRow("入户类型", self._with_error("kind", self.kind_box))
        inv = QWidget()
        inv.setLayout(inv_row)
        inv_row.setContentsMargins(0, 0, 0, 0)
        grid.addRow("调查人员 *（至少两名）", self._with_error("investigators", inv))

        self.form = FormWidget(
            self.template, visit_members(self.store, self.household.id, self.visit.id)
        )

        photos = QGroupBox("照片")
        pl = QVBoxLayout(photos)
        self.photo_list = QListWidget()
        self.photo_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.photo_list.setIconSize(QSize(90, 90))
        self.photo_list.setFixedHeight(112)
        add, remove = QPushButton("添加照片…"), QPushButton("移除照片")
        add.clicked.connect(self._choose_photos)
        remove.clicked.connect(self.remove_selected_photo)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        pl.addWidget(self.photo_list)
        pl.addLayout(row)
        pl.addWidget(self._error_label("photos"))

        end = QGroupBox("结论与确认")
        ef = QFormLayout(end)
        self.conclusion_box = QComboBox()
        self.conclusion_box.setEditable(True)
        self.conclusion_box.addItems(["", *CONCLUSIONS])
        self.rep_edit = QLineEdit()
        self.ack_check = QCheckBox("户代表已确认以上情况并签字")
        self.ack_note = QLineEdit()
        ef.addRow("调查结论 *", self._with_error("conclusion", self.conclusion_box))
        ef.addRow("户代表姓名", self._with_error("representative", self.rep_edit))
        ef.addRow("", self.ack_check)
        ef.addRow("户代表意见", self.ack_note)

        self.summary = QLabel()
        self.summary.setStyleSheet(ERROR_STYLE)
        self.summary.setWordWrap(True)
        self.save_button = QPushButton("保存 (Ctrl+S)")
        self.print_button = QPushButton("保存并打印核查表…")
        self.blank_button = QPushButton("打印空白核查表…")
        cancel = QPushButton("关闭")
        self.save_button.clicked.connect(self.save)
        self.print_button.clicked.connect(self._print_clicked)
        self.blank_button.clicked.connect(self._print_blank_clicked)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for b in (self.blank_button, self.print_button, self.save_button, cancel):
            buttons.addWidget(b)

        reg = QGroupBox("登记情况（核对用）")
        rl = QVBoxLayout(reg)
        self.registered = QLabel()  # the register beside the checked items (consistency.py)
        self.registered.setWordWrap(True)
        self.registered.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rl.addWidget(self.registered)
        self.form.changed.connect(self._show_registered)

        lower = QWidget()
        ll = QHBoxLayout(lower)  # photos beside the conclusion: the checklist keeps the height
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(reg, 1)
        ll.addWidget(photos)
        ll.addWidget(end)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.form)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setSizes([700, 220])  # the checklist gets most of the room
        layout = QVBoxLayout(self)
        layout.addWidget(top)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        # reading order for Tab: header fields, the checklist, then the end
        chain = [
            self.date_edit,
            self.kind_box,
            *self.inv_edits,
            *self.form.focus_order(),
            self.conclusion_box,
            self.rep_edit,
            self.ack_check,
            self.ack_note,
            self.save_button,
        ]
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)

    def _error_label(self, key: str) -> QLabel:
        lab = QLabel()
        lab.setStyleSheet(ERROR_STYLE)
        lab.hide()
        self.errors[key] = lab
        return lab

    def _with_error(self, key: str, w: QWidget) -> QWidget:
        cell = QWidget()
        col = QVBoxLayout(cell)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(w)
        col.addWidget(self._error_label(key))
        return cell

    def _load(self) -> None:
        v = self.visit
        self.date_edit.setText(v.visit_date.isoformat())
        self.kind_box.setCurrentIndex(max(self.kind_box.findData(v.kind), 0))
        people = list(v.investigators)
        for e, name in zip(self.inv_edits[:2], people[:2], strict=False):
            e.setText(name)
        self.inv_edits[2].setText("、".join(people[2:]))
        answers = v.answers
        if v.id is None:  # a new checklist starts from the register's figures
            answers = with_prefill(answers, checklist_prefill(self.store, self.household.id))
        self.form.set_answers(answers)
        self._show_registered()
        self.conclusion_box.setCurrentText(v.conclusion)
        self.rep_edit.setText(v.representative)
        self.ack_check.setChecked(v.acknowledged)
        self.ack_note.setText(v.ack_note)
        self.photo_list.clear()
        for p in v.photos:
            self._show_photo(p)

    def _state(self) -> tuple:
        """Everything the clerk can change, as typed (to notice unsaved work)."""
        photos = tuple((p.id, p.sha256, p.caption) for p in self.photos())
        return (
            self.date_edit.text().strip(),
            self.kind_box.currentData(),
            tuple(e.text().strip() for e in self.inv_edits),
            repr(self.form.answers()),
            self.conclusion_box.currentText().strip(),
            self.rep_edit.text().strip(),
            self.ack_check.isChecked(),
            self.ack_note.text().strip(),
            photos,
        )

    def _show_registered(self) -> None:
        """Registered value per checked item; a difference from the visit in red."""
        hid = self.household.id
        reg = registered_values(self.store, hid)
        self.diffs = differences(self.store, hid, self.form.validate(self.today)[0])
        lines = [
            f"<b>{CHECK_LABELS[k]}</b>：{html.escape(v)}"
            + (
                f"<br><span style='color:#c00'>⚠ {html.escape(self.diffs[k])}</span>"
                if k in self.diffs
                else ""
            )
            for k, v in reg.items()
        ]
        warn = household_warnings(self.store, hid, self.today)
        lines += [f"<span style='color:#a60'>⚠ {html.escape(w.text())}</span>" for w in warn]
        self.registered.setText("<br>".join(lines))

    def is_dirty(self) -> bool:
        return self._state() != self._saved_state

    def _show_photo(self, p) -> None:
        pix = QPixmap()
        pix.loadFromData(p.thumbnail)
        item = QListWidgetItem(QIcon(pix), p.caption or p.file_name)
        item.setData(Qt.ItemDataRole.UserRole, p)
        self.photo_list.addItem(item)

    # -- photos ---------------------------------------------------------------
    def _choose_photos(self) -> None:
        paths = file_dialogs.open_files(
            self, "photos", "选择照片", "图片 (*.jpg *.jpeg *.png *.bmp)"
        )
        if paths:
            self.add_photo_files(paths)

    def add_photo_files(self, paths: list[str | Path]) -> list[str]:
        """Attach image files; returns the messages of those refused."""
        refused = []
        for path in paths:
            try:
                p = load_photo(path)
            except MzError as exc:
                refused.append(exc.message)
                continue
            self._show_photo(p)
        self._set_error("photos", "；".join(refused))
        return refused

    def remove_selected_photo(self) -> None:
        row = self.photo_list.currentRow()
        if row >= 0:
            self.photo_list.takeItem(row)

    def photos(self) -> list:
        return [
            self.photo_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.photo_list.count())
        ]

    # -- saving ---------------------------------------------------------------
    def _set_error(self, key: str, msg: str) -> None:
        lab = self.errors[key]
        lab.setText(msg)
        lab.setVisible(bool(msg))

    def collect(self) -> Visit:
        v = self.visit
        v.visit_date = self.date_edit.text()  # read (or refused, saying why) by the core
        v.kind = self.kind_box.currentData()
        extra = [x for x in re.split(r"[、,，;；\s]+", self.inv_edits[2].text()) if x]
        v.investigators = [e.text() for e in self.inv_edits[:2]] + extra
        v.answers = self.form.answers()
        v.conclusion = self.conclusion_box.currentText()
        v.representative = self.rep_edit.text()
        v.acknowledged = self.ack_check.isChecked()
        v.ack_note = self.ack_note.text()
        v.photos = self.photos()
        return v

    def save(self) -> bool:
        """Save through the core; show every problem beside its field."""
        for k in self.errors:
            self._set_error(k, "")
        self.form.show_problems([])
        if not ops.run(
            self, lambda: self.visits.save(self.collect(), self.today), on_error=self._refused
        ):
            return False
        self.summary.setText("")
        vid = self.visit.id
        opened = 0
        if allowed(self.store, "visit.edit"):  # a county reviewer's 抽查复核 opens no tasks
            opened = ops.run(self, lambda: open_difference_tasks(self.store, vid)).value
        if opened:
            self.summary.setText(f"与登记不一致{opened}处，已生成待办任务")
        self.date_edit.setText(self.visit.visit_date.isoformat())  # as it was read
        self._saved_state = self._state()
        self.setWindowTitle(self.windowTitle().split("（")[0] + f"（已保存，记录{self.visit.id}）")
        self.saved.emit(self.visit.id)
        return True

    def _refused(self, exc: MzError) -> None:
        if isinstance(exc, ValidationError):
            self._show_problems(exc.problems)
        else:
            self.summary.setText(exc.message)

    def _show_problems(self, problems: list[FieldError]) -> None:
        form_problems = [p for p in problems if p.field not in VISIT_FIELDS]
        for p in problems:
            if p.field in VISIT_FIELDS:
                self._set_error(p.field, p.message)
        self.form.show_problems(form_problems)
        self.summary.setText(f"有{len(problems)}处需要修改：" + problems[0].message)

    # -- printing -------------------------------------------------------------
    def print_to(self, path: str | Path, blank: bool = False) -> int:
        """Write the checklist (this visit, or a blank sheet) to ``path``; pages."""
        from ..reports.checklist_pdf import CheckEntry, write_checklists

        entry = CheckEntry(self.household.id, None if blank else self.visit.id)
        return write_checklists(self.store, [entry], path, visits=self.visits)

    def _ask_pdf(self, name: str) -> str:
        return ask_save_path(self, "保存PDF", name, ".pdf", "PDF")

    def _print_clicked(self) -> None:
        if not self.save():
            return
        path = self._ask_pdf(f"入户核查表-{self.household.id}.pdf")
        if path:
            self._print(path, blank=False)

    def _print_blank_clicked(self) -> None:
        path = self._ask_pdf(f"空白核查表-{self.household.id}.pdf")
        if path:
            self._print(path, blank=True)

    def _print(self, path: str, blank: bool) -> None:
        what = "空白核查表" if blank else "入户核查表"
        if save_reporting(self, what, path, lambda: self.print_to(path, blank)) is None:
            return
        self.summary.setText("")
        QMessageBox.information(self, "打印", f"已生成 {path}")
