"""A small form dialog (the lifecycle steps 新申请, 登记调查, 民主评议, 复核, 停发 …).

Keyboard first: Enter moves to the next field (on the last one, or on 确定, it runs the
step), Ctrl+S runs the step, Esc cancels.  With an ``action`` the dialog checks BEFORE
it closes: 确定 runs the step through the core, and a refusal is shown beside the field
it concerns (``where`` maps an error's field or code to a field key) and in a summary
listing every problem, each clickable; the dialog stays open with what was typed.
A field's red text clears as soon as that field is edited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..models.errors import FieldError, MzError, ValidationError
from . import ops
from .problem_summary import ERROR_STYLE, ProblemSummary

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def enter_moves_on(dialog: QDialog, event, last: QWidget | None, finish: Callable) -> bool:
    """Enter in a field moves to the next field (``finish()`` on ``last``); True if handled."""
    if event.key() not in ENTER_KEYS or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
        return False
    focus = dialog.focusWidget()
    if isinstance(focus, (QAbstractButton, QPlainTextEdit, QTextEdit)):
        return False  # a button is pressed by Enter; a text area takes the new line
    if focus is not None and last is not None and (focus is last or last.isAncestorOf(focus)):
        finish()
    else:
        dialog.focusNextChild()
    return True


class FieldsDialog(QDialog):
    """A small form: ``fields`` is [(key, label, widget)].

    ``action()`` runs the step (its result goes to ``on_done``); ``confirm`` is a
    question asked before it (an irreversible step); ``where`` maps a refusal's field or
    code to the key of the field to show it beside.
    """

    def __init__(
        self,
        title: str,
        fields: list[tuple[str, str, QWidget]],
        parent=None,
        action: Callable[[], Any] | None = None,
        on_done: Callable[[Any], object] | None = None,
        where: dict[str, str] | None = None,
        confirm: str = "",
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.action, self.on_done = action, on_done
        self.setMinimumWidth(460)  # red text beside a field reads on one or two lines
        self.where = dict(where or {})
        self.confirm = confirm
        self.result_value: Any = None
        self.widgets = {k: w for k, _, w in fields}
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        root = QVBoxLayout(self)
        form = QFormLayout()
        for key, label, w in fields:
            lab = QLabel(label)
            lab.setBuddy(w)
            cell = QWidget()
            col = QVBoxLayout(cell)
            col.setContentsMargins(0, 0, 0, 0)
            col.setSpacing(1)
            col.addWidget(w)
            err = QLabel("")
            err.setStyleSheet(ERROR_STYLE)
            err.setWordWrap(True)
            err.hide()
            col.addWidget(err)
            form.addRow(lab, cell)
            self.errors[key], self.labels[key] = err, lab
            self._watch(key, w)
        root.addLayout(form)
        self.summary = ProblemSummary(lambda p: self.focus_field(self._key_of(p)))
        root.addWidget(self.summary)
        self.box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_btn = self.box.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_btn.setText("确定 (Ctrl+S)")
        self.ok_btn.setDefault(True)
        cancel = self.box.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText("取消")
        cancel.setAutoDefault(False)  # never the default
        self.box.accepted.connect(self.try_accept)
        self.box.rejected.connect(self.reject)
        root.addWidget(self.box)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.try_accept)

    def _watch(self, key: str, w: QWidget) -> None:
        if isinstance(w, QLineEdit):
            w.textEdited.connect(lambda _t: self.clear_error(key))
        elif isinstance(w, QComboBox):
            w.currentIndexChanged.connect(lambda _i: self.clear_error(key))
        elif isinstance(w, QSpinBox):
            w.valueChanged.connect(lambda _v: self.clear_error(key))

    def value(self, key: str):
        w = self.widgets[key]
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QSpinBox):
            return w.value()
        return w.text()

    # -- checking -------------------------------------------------------------------
    def try_accept(self) -> bool:
        """Run the step; close only when it was done (keeps what was typed otherwise)."""
        if self.action is None:
            self.accept()
            return True
        self.show_problems([])
        if self.confirm:
            answer = QMessageBox.question(self, self.windowTitle(), self.confirm)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        done = ops.run(self, self.action, on_error=self.refused)
        if not done:
            return False
        self.result_value = done.value
        self.accept()
        if self.on_done is not None:
            self.on_done(done.value)
        return True

    def refused(self, exc: MzError) -> None:
        if isinstance(exc, ValidationError):
            problems = exc.problems
        elif isinstance(exc, FieldError):
            problems = [exc]
        else:
            problems = [FieldError("", exc.code, exc.message)]
        self.show_problems(problems)
        first = next((self._key_of(p) for p in problems if self._key_of(p)), None)
        if first:
            self.focus_field(first)

    def _key_of(self, p: FieldError) -> str | None:
        for name in (p.field, p.code):
            if name in self.where:
                return self.where[name]
            if name in self.widgets:
                return name
        return None

    def show_problems(self, problems: list[FieldError]) -> None:
        """Every problem beside its field and in the summary."""
        by_key: dict[str, list[str]] = {}
        for p in problems:
            key = self._key_of(p)
            if key:
                by_key.setdefault(key, []).append(p.message)
        for key, err in self.errors.items():
            msgs = by_key.get(key, [])
            err.setText("；".join(msgs))
            err.setVisible(bool(msgs))
        self.summary.show_problems(problems)
        self._fit_height()

    def clear_error(self, key: str) -> None:
        """The field was edited: its red text goes, and so does its line in the summary."""
        if not self.errors[key].isVisible():
            return
        self.errors[key].setText("")
        self.errors[key].hide()
        self.summary.show_problems([p for p in self.summary.problems if self._key_of(p) != key])
        self._fit_height()

    def _fit_height(self) -> None:
        """Give back the room of red text that went: no gap is left between the fields
        (once the layout has taken the hidden labels out)."""
        QTimer.singleShot(0, self, self._shrink)  # not after the dialog is gone

    def _shrink(self) -> None:
        want = self.sizeHint().height()
        if self.height() > want:
            self.resize(self.width(), want)

    def focus_field(self, key: str | None) -> None:
        if key in self.widgets:
            w = self.widgets[key]
            w.setFocus()
            if isinstance(w, QLineEdit):
                w.selectAll()

    def keyPressEvent(self, event) -> None:
        last = list(self.widgets.values())[-1] if self.widgets else None
        if not enter_moves_on(self, event, last, self.try_accept):
            super().keyPressEvent(event)
