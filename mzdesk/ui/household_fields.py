"""The household form's fields (家庭信息), listed once.

Each :class:`Field` says where it sits on the form, how its widget is made, how a
:class:`Household` is shown in it (``load``) and read back from it (``collect``).
:class:`~mzdesk.ui.household_dialog.HouseholdDialog` builds, loads and collects the
form by walking :data:`FIELDS`; a new household attribute is one more row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QSpinBox, QWidget

from ..models.errors import FieldError
from ..models.household import Household
from ..models.money import format_fen, parse_yuan
from ..models.query import villages
from ..models.store import Store
from ..models.vocab import vocab


class CauseBoxes(QWidget):
    """One check box per cause of hardship (致困原因), in the vocabulary's order."""

    def __init__(self) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        for code, text in vocab()["causes"].items():
            cb = QCheckBox(text)
            self.boxes[code] = cb
            row.addWidget(cb)
        row.addStretch(1)

    def set_codes(self, codes: list[str]) -> None:
        for code, cb in self.boxes.items():
            cb.setChecked(code in codes)

    def codes(self) -> list[str]:
        return [c for c, cb in self.boxes.items() if cb.isChecked()]


@dataclass(frozen=True)
class Field:
    """One household attribute on the form.

    ``place`` is (row, column) in the three-column grid; a column of None is a whole
    row without a label buddy.  ``error_label`` says whether problems with this field
    are shown under it.
    """

    key: str
    label: str
    place: tuple[int, int | None]
    make: Callable[[Store], QWidget]
    load: Callable[[Any, Household], None]
    collect: Callable[[Any, Household], None]
    error_label: bool = True


def savings_fen(edit: QLineEdit) -> int:
    """The savings (存款) typed, in fen; raises FieldError on text that is not an amount."""
    text = edit.text().strip()
    return parse_yuan(text, "savings_fen") if text else 0


def _line(placeholder: str = "") -> Callable[[Store], QWidget]:
    def make(_store: Store) -> QWidget:
        edit = QLineEdit()
        if placeholder:
            edit.setPlaceholderText(placeholder)
        return edit

    return make


def _text(key: str, label: str, place, *, strip: bool = False, placeholder: str = "") -> Field:
    def collect(w: QLineEdit, h: Household) -> None:
        _set(h, key, w.text().strip() if strip else w.text())

    return Field(
        key, label, place, _line(placeholder), lambda w, h: w.setText(getattr(h, key)), collect
    )


def _coded(key: str, label: str, place, *, blank: bool) -> Field:
    """A combo box of a coded vocabulary: shows the text, stores the code."""

    def make(_store: Store) -> QWidget:
        box = QComboBox()
        if blank:
            box.addItem("", "")
        for code, text in vocab()[key].items():
            box.addItem(text, code)
        return box

    def load(w: QComboBox, h: Household) -> None:
        w.setCurrentIndex(max(w.findData(getattr(h, key)), 0))

    def collect(w: QComboBox, h: Household) -> None:
        _set(h, key, (w.currentData() or "") if blank else w.currentData())

    return Field(key, label, place, make, load, collect)


def _listed(key: str, label: str, place) -> Field:
    """A combo box of plain words (stored as shown), blank first."""

    def make(_store: Store) -> QWidget:
        box = QComboBox()
        box.addItems(["", *vocab()[key]])
        return box

    def collect(w: QComboBox, h: Household) -> None:
        _set(h, key, w.currentText())

    return Field(key, label, place, make, lambda w, h: w.setCurrentText(getattr(h, key)), collect)


def _make_village(store: Store) -> QWidget:
    box = QComboBox()
    box.setEditable(True)
    box.addItems(villages(store))
    box.setCurrentText("")
    edit = box.lineEdit()  # an editable combo box has one
    if edit is not None:
        edit.setPlaceholderText("必填")
    return box


def _make_area(_store: Store) -> QWidget:
    spin = QSpinBox()
    spin.setRange(0, 2000)
    spin.setSuffix(" ㎡")
    return spin


def _collect_savings(w: QLineEdit, h: Household) -> None:
    try:
        h.savings_fen = savings_fen(w)
    except FieldError:
        pass  # reported as a form problem; the stored value stays until it parses


def _set(h: Household, key: str, value: object) -> None:
    setattr(h, key, value)


FIELDS: list[Field] = [
    Field(
        "village",
        "村(社区)*",
        (0, 0),
        _make_village,
        lambda w, h: w.setCurrentText(h.village),
        lambda w, h: _set(h, "village", w.currentText()),
    ),
    _text("village_group", "组", (0, 1)),
    _coded("area_type", "城乡", (0, 2), blank=False),
    _text("address", "住址", (1, 0), strip=True),
    _text("phone", "联系电话", (1, 1), placeholder="手机或固话"),
    _text("bank_name", "开户银行", (1, 2), strip=True),
    _text("bank_account", "银行账号", (2, 0)),
    _coded("housing_tenure", "住房情况", (2, 1), blank=True),
    _listed("housing_structure", "房屋结构", (2, 2)),
    Field(
        "housing_area_m2",
        "住房面积",
        (3, 0),
        _make_area,
        lambda w, h: w.setValue(h.housing_area_m2 or 0),
        lambda w, h: _set(h, "housing_area_m2", w.value() or None),
    ),
    Field(
        "dangerous_house",
        "危房",
        (3, 1),
        lambda _s: QCheckBox("是"),
        lambda w, h: w.setChecked(h.dangerous_house),
        lambda w, h: _set(h, "dangerous_house", w.isChecked()),
    ),
    Field(
        "savings_fen",
        "存款(元)",
        (3, 2),
        _line("元"),
        lambda w, h: w.setText(format_fen(h.savings_fen) if h.savings_fen else ""),
        _collect_savings,
    ),
    Field(
        "causes",
        "致困原因",
        (4, None),
        lambda _s: CauseBoxes(),
        lambda w, h: w.set_codes(h.causes),
        lambda w, h: _set(h, "causes", w.codes()),
    ),
    _coded("poverty_flag", "返贫监测", (5, 0), blank=True),  # 防止返贫监测对象 / 脱贫人口
    Field(
        "notes",
        "备注",
        (6, None),
        _line(),
        lambda w, h: w.setText(h.notes),
        lambda w, h: _set(h, "notes", w.text().strip()),
        error_label=False,
    ),
]
