"""特困 panel (特困供养): 供养方式, 供养机构 or 照料人, self-care level and its care amount.

Shown under the enrolment list (:class:`~mzdesk.ui.enrolment_panel.EnrolmentPanel`) when
the selected enrolment's category has a 供养方式 (``support_modes`` in categories.json),
hidden otherwise.  Compact: three rows, so the household dialog still fits 1366×768.
Saving calls :func:`mzdesk.models.support.save` through :func:`mzdesk.ui.ops.run`; the
care amount shown is :func:`mzdesk.models.selfcare.care_fen` of the chosen level.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from ..models import enrolment as enr
from ..models import selfcare, support
from ..models.categories import categories
from ..models.money import format_fen
from ..models.store import Store
from . import ops

LEVEL_BY_REVIEW = "在保记录的生活自理能力请通过“复核”变更"


def _row(*widgets: QWidget, stretch: bool = True) -> QWidget:
    """Widgets side by side with no margins, room left at the end when ``stretch``."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        row.addWidget(w)
    if stretch:
        row.addStretch(1)
    return box


class SupportPanel(QGroupBox):
    """The 特困 attributes of one enrolment, editable in place."""

    saved = Signal(int)  # enrolment id

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__("特困供养", parent)
        self.store = store
        self.enrolment: enr.Enrolment | None = None
        self.county = support.county_code(store)
        self.mode = QComboBox()
        for code, label in support.MODES.items():
            self.mode.addItem(f"{label}供养", code)
        self.level = QComboBox()
        for lv in selfcare.levels():
            self.level.addItem(lv["label"], lv["code"])
        self.level.setToolTip(
            "也可写作：" + "；".join("、".join(lv["labels"]) for lv in selfcare.levels())
        )
        self.care = QLabel()
        self.institution = QLineEdit()
        self.institution.setPlaceholderText("如 青山镇敬老院")
        self.carer_name, self.carer_id, self.carer_phone = QLineEdit(), QLineEdit(), QLineEdit()
        self.care_from, self.care_to = QLineEdit(), QLineEdit()
        self.carer_name.setPlaceholderText("姓名")
        self.carer_id.setPlaceholderText("18位身份证号")
        self.carer_phone.setPlaceholderText("手机或固话")
        for w in (self.care_from, self.care_to):
            w.setPlaceholderText("年-月-日")
        self.save_btn = QPushButton("保存供养信息")
        self.save_btn.clicked.connect(self.save)

        self.pages = QStackedWidget()
        self.pages.addWidget(_row(QLabel("供养机构"), self.institution, stretch=False))
        self.pages.addWidget(
            _row(
                QLabel("照料人"),
                self.carer_name,
                QLabel("身份证号"),
                self.carer_id,
                QLabel("电话"),
                self.carer_phone,
                QLabel("照料协议"),
                self.care_from,
                QLabel("至"),
                self.care_to,
            )
        )
        for w, chars in (
            (self.carer_name, 8),
            (self.carer_id, 19),
            (self.carer_phone, 13),
            (self.care_from, 11),
            (self.care_to, 11),
        ):
            w.setMinimumWidth(w.fontMetrics().horizontalAdvance("0" * chars) + 16)
            w.setMaximumWidth(w.minimumWidth() + 40)
        self.institution.setMinimumWidth(
            self.institution.fontMetrics().horizontalAdvance("字" * 16)
        )

        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setVerticalSpacing(4)
        grid.addWidget(QLabel("供养方式"), 0, 0)
        grid.addWidget(self.mode, 0, 1)
        grid.addWidget(QLabel("生活自理能力"), 0, 2)
        grid.addWidget(self.level, 0, 3)
        grid.addWidget(QLabel("照料护理费"), 0, 4)
        grid.addWidget(self.care, 0, 5)
        grid.addWidget(self.save_btn, 0, 6)
        grid.addWidget(self.pages, 1, 0, 1, 7)
        grid.setColumnStretch(5, 1)
        self.mode.currentIndexChanged.connect(lambda _i: self._mode_changed())
        self.level.currentIndexChanged.connect(lambda _i: self._show_care())
        self.hide()

    # -- showing -----------------------------------------------------------------------
    def show_enrolment(self, e: enr.Enrolment | None) -> None:
        """Show the support of ``e`` when its category has one; hide otherwise."""
        cat = categories(self.store).get(e.category, {}) if e else {}
        self.enrolment = e if cat.get("support_modes") else None
        if self.enrolment is None:
            self.hide()
            return
        s = support.get(self.store, self.enrolment.id)
        self.mode.setCurrentIndex(max(self.mode.findData(s.mode or "dispersed"), 0))
        self.level.setCurrentIndex(max(self.level.findData(s.level), 0) if s.level else -1)
        amendable = self.enrolment.state in support.AMENDABLE
        for w in self._editors():  # a stopped or rejected record is history: shown only
            w.setEnabled(self.enrolment.live)
        self.level.setEnabled(amendable)
        self.level.setToolTip("" if amendable else LEVEL_BY_REVIEW)
        self.institution.setText(s.institution)
        self.carer_name.setText(s.carer_name)
        self.carer_id.setText(s.carer_id_number)
        self.carer_phone.setText(s.carer_phone)
        self.care_from.setText(s.care_from or "")
        self.care_to.setText(s.care_to or "")
        self._mode_changed()
        self._show_care()
        self.show()

    def _editors(self) -> tuple[QWidget, ...]:
        return (
            self.mode,
            self.institution,
            self.carer_name,
            self.carer_id,
            self.carer_phone,
            self.care_from,
            self.care_to,
            self.save_btn,
        )

    def _mode_changed(self) -> None:
        self.pages.setCurrentIndex(0 if self.mode.currentData() == "concentrated" else 1)

    def _show_care(self) -> None:
        code = self.level.currentData()
        if not code:
            self.care.setText("未评定自理能力")
            return
        fen = selfcare.care_fen(code, self.county)
        self.care.setText(f"{format_fen(fen)} 元/月")

    def care_text(self) -> str:
        return self.care.text()

    # -- saving ------------------------------------------------------------------------
    def save(self) -> bool:
        e = self.enrolment
        if e is None:
            return False
        level = self.level.currentData() if self.level.isEnabled() else None
        outcome = ops.run(
            self,
            lambda: support.save(
                self.store,
                e.id,
                self.mode.currentData(),
                institution=self.institution.text(),
                carer_name=self.carer_name.text(),
                carer_id_number=self.carer_id.text(),
                carer_phone=self.carer_phone.text(),
                care_from=self.care_from.text(),
                care_to=self.care_to.text(),
                level=level,
            ),
            title="特困供养",
        )
        if outcome:
            self.saved.emit(e.id)
        return bool(outcome)
