"""The member detail (成员详情) under the household form's member table.

Shows one :class:`Member`'s less common attributes (ID pending, disability card,
labour capacity, occupation, date of death, monthly income, special identities),
writes the clerk's edits back to that member, and returns the problems only the
form can find (a date or an amount that does not parse).  Those problems belong to
the form, not to the member: the dialog keeps them beside its member list.

:class:`ChecksumHint` is the line under the member table for an ID number that fails
its check character: it first asks the clerk to compare the digits with the card, and
names the expected last character only once they were re-checked (so that the clerk
does not "fix" a mistyped middle digit by changing the last one).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from ..models.dates import parse_day
from ..models.errors import FieldError
from ..models.household import Member
from ..models.ids import checksum_hint
from ..models.money import format_fen, parse_yuan
from ..models.vocab import INCOME_SOURCES, vocab

ERROR_STYLE = "color: #c0392b;"
RECHECKED = "已逐位核对"


def _parse_date(text: str, field: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return parse_day(text)  # the one parser: 2026-03-01, 2026/3/1, 2026年3月1日
    except (ValueError, OverflowError):
        raise FieldError(field, "bad_date", "日期格式应为 YYYY-MM-DD") from None


class MemberDetail(QGroupBox):
    """The detail box; ``edited`` fires on every change the clerk makes."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__("成员详情")
        v = vocab()
        form = QGridLayout(self)
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
            il.addRow(v["income"][src], e)
            e.textEdited.connect(self.edited)
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
            cb.toggled.connect(self.edited)
        form.addWidget(special, 0, 5, 6, 1)
        for edit in (self.m_cert, self.m_deceased):
            edit.textEdited.connect(self.edited)
        for box in (self.m_labour, self.m_occupation):
            box.currentTextChanged.connect(self.edited)
        for check in (self.m_pending, self.m_in_assistance):
            check.toggled.connect(self.edited)
        form.setRowStretch(5, 1)  # spare height goes below the fields, not between them
        self.setEnabled(False)

    def editors(self) -> list:
        """Every input, for a read-only form."""
        fixed = [self.m_pending, self.m_in_assistance, self.m_cert, self.m_labour]
        return [
            *fixed,
            self.m_occupation,
            self.m_deceased,
            *self.m_income.values(),
            *self.m_special.values(),
        ]

    def show_member(self, m: Member) -> None:
        """Fill the inputs from ``m`` (the caller blocks its own reaction to the edits)."""
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

    def apply_to(self, m: Member) -> list[FieldError]:
        """Write the inputs into ``m``; the problems of text that does not parse.

        A date of death that does not parse leaves the stored one as it was."""
        m.id_pending = self.m_pending.isChecked()
        m.in_assistance = self.m_in_assistance.isChecked()
        m.disability_cert = self.m_cert.text().strip()
        m.labour_capacity = self.m_labour.currentText()
        m.occupation = self.m_occupation.currentText()
        problems = []
        try:
            m.deceased_on = _parse_date(self.m_deceased.text(), "deceased_on")
        except FieldError as exc:
            problems.append(exc)
        income = {}
        for src, e in self.m_income.items():
            text = e.text().strip()
            if not text:
                continue
            try:
                fen = parse_yuan(text, "income")
            except FieldError as exc:
                problems.append(
                    FieldError("income", exc.code, f"{vocab()['income'][src]}: {exc.message}")
                )
            else:
                if fen:
                    income[src] = fen
        m.income = income
        m.special = [c for c, cb in self.m_special.items() if cb.isChecked()]
        return problems

    def show_errors(self, messages: dict[str, list[str]]) -> None:
        """``messages`` by field (disability_cert, deceased_on, income); absent: none."""
        for fld, lab in (
            ("disability_cert", self.m_cert_err),
            ("deceased_on", self.m_deceased_err),
            ("income", self.m_income_err),
        ):
            lab.setText("；".join(messages.get(fld, [])))


class ChecksumHint(QLabel):
    """The check-character hint for members whose ID number fails its checksum.

    A member's hint is given after the clerk re-checked the digits: a click on
    已逐位核对, or a second, different number that is still wrong.  Members are told
    apart by a key the form chooses (stable while the form is open).
    """

    def __init__(self) -> None:
        super().__init__("")
        self.setStyleSheet(ERROR_STYLE)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.linkActivated.connect(lambda key: self.rechecked(int(key)))
        self._first_wrong: dict[int, str] = {}  # key -> the first wrong number seen
        self._rechecked: set[int] = set()
        self._rows: list[tuple[int, int, str]] = []
        self.hide()

    def show_rows(self, rows: list[tuple[int, int, str]]) -> None:
        """``rows``: (key, row, number) of every member whose number fails its checksum."""
        for key, _row, number in rows:
            first = self._first_wrong.setdefault(key, number)
            if first != number:  # typed again and still wrong: the digits were looked at
                self._rechecked.add(key)
        self._rows = list(rows)
        self._render()

    def rechecked(self, key: int) -> None:
        """The clerk compared the digits with the card (the 已逐位核对 link)."""
        self._rechecked.add(key)
        self._render()

    def hint_for(self, key: int) -> str:
        """The hint now shown for ``key`` ('' when none)."""
        for k, _row, number in self._rows:
            if k == key and k in self._rechecked:
                return checksum_hint(number)
        return ""

    def _render(self) -> None:
        lines = []
        for key, row, number in self._rows:
            who = f"第{row + 1}名成员的身份证号"
            if key in self._rechecked and checksum_hint(number):
                lines.append(f"{who}已逐位核对：{checksum_hint(number)}")
            else:
                lines.append(
                    f'{who}请对照证件逐位核对，核对无误后点<a href="{key}">{RECHECKED}</a>'
                )
        self.setText("<br>".join(lines))
        self.setVisible(bool(lines))
