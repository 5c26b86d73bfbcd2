"""ID-card reader in the GUI: the settings page (测试连接) and filling a member from a card.

The reader is optional: with 不使用 chosen nothing is loaded and nothing fails.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..idcard import Card, Reader, SimulatedReader, TermbReader, check_card
from ..models.errors import MzError

BACKENDS = [
    ("none", "不使用读卡器"),
    ("termb", "读卡器驱动（termb.dll）"),
    ("sim", "模拟读卡器（演示）"),
]


def configured_reader() -> Reader | None:
    """The reader the office chose, or None (no reader: no error)."""
    s = QSettings("mzdesk", "mzdesk")
    backend = s.value("idcard/backend", "none", str)
    keep_photo = s.value("idcard/keep_photo", False, bool)
    if backend == "sim":
        return SimulatedReader()
    if backend == "termb":
        return TermbReader.load(
            s.value("idcard/dll", "termb.dll", str), s.value("idcard/port", 1001, int), keep_photo
        )
    return None


def fill_member(dialog, card: Card, row: int | None = None) -> list[str]:
    """Put a card into the household form's member row (a new row when none is current).

    Returns the warnings for the clerk (expired card, number differs from the typed one).
    The one-ID rule across households is the service's, checked when the form validates.
    """
    from .household_dialog import COL

    table = dialog.table
    if row is None:
        row = table.currentRow()
    if row < 0 or row >= len(dialog.members):
        dialog.add_member(focus=False)
        row = len(dialog.members) - 1
    typed = dialog.members[row].id_number or ""
    warnings = check_card(card, typed_id=typed)
    table.item(row, COL["name"]).setText(card.name)
    table.item(row, COL["id_number"]).setText(card.id_number)
    return warnings


class IdCardSettings(QWidget):
    """读卡器 settings: backend, driver path, port, keep photo; 测试连接."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        s = QSettings("mzdesk", "mzdesk")
        self.backend = QComboBox()
        for code, label in BACKENDS:
            self.backend.addItem(label, code)
        self.backend.setCurrentIndex(
            max(0, self.backend.findData(s.value("idcard/backend", "none", str)))
        )
        self.dll = QLineEdit(s.value("idcard/dll", "termb.dll", str))
        self.port = QSpinBox()
        self.port.setRange(1, 1016)
        self.port.setValue(s.value("idcard/port", 1001, int))
        self.keep_photo = QCheckBox("保存证件照片（需单位同意）")
        self.keep_photo.setChecked(s.value("idcard/keep_photo", False, bool))
        self.test_button = QPushButton("测试连接")
        self.result = QLabel("")
        form = QFormLayout(self)
        form.addRow("读卡方式", self.backend)
        form.addRow("驱动文件", self.dll)
        form.addRow("端口（USB为1001）", self.port)
        form.addRow("", self.keep_photo)
        form.addRow(self.test_button, self.result)
        self.test_button.clicked.connect(self.test_connection)

    def save(self) -> None:
        s = QSettings("mzdesk", "mzdesk")
        s.setValue("idcard/backend", self.backend.currentData())
        s.setValue("idcard/dll", self.dll.text().strip())
        s.setValue("idcard/port", self.port.value())
        s.setValue("idcard/keep_photo", self.keep_photo.isChecked())

    def test_connection(self) -> str:
        self.save()
        try:
            reader = configured_reader()
            text = "未使用读卡器" if reader is None else reader.test()
        except MzError as exc:
            text = exc.message
        self.result.setText(text)
        return text


def read_card_button(dialog) -> QPushButton | None:
    """读身份证 for the household form's member row; None when no reader is configured."""
    backend = QSettings("mzdesk", "mzdesk").value("idcard/backend", "none", str)
    if backend == "none":
        return None
    button = QPushButton("读身份证")

    def read() -> None:
        try:
            reader = configured_reader()
            if reader is None:
                return
            warnings = fill_member(dialog, reader.read())
        except MzError as exc:
            warnings = [exc.message]
        dialog.members_error.setText("；".join(warnings))

    button.clicked.connect(read)
    return button
