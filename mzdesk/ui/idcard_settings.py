"""ID-card reader in the GUI: the settings page (测试连接) and filling a member from a card.

The reader is optional: with 不使用 chosen nothing is loaded and nothing fails.  A
driver reader (termb.dll, sdtapi.dll) or the simulator gives a 读身份证 button on the
household form; a keyboard-wedge reader (or a scanner) gives a 刷卡 box there instead:
the reader types the 18 characters and Enter, and the number fills the member's ID.
The card photo is kept only when the office enabled it (保存证件照片), beside the
database, readable by the clerk's account alone.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
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

from ..idcard import Card, Reader, SimulatedReader, TermbReader, check_card, parse_wedge, save_photo
from ..idcard.sdtapi import SdtapiReader
from ..models.errors import MzError

BACKENDS = [
    ("none", "不使用读卡器"),
    ("termb", "读卡器驱动（termb.dll）"),
    ("sdtapi", "读卡器驱动（sdtapi.dll）"),
    ("wedge", "键盘输入式读卡器/扫码枪"),
    ("sim", "模拟读卡器（演示）"),
]


DRIVERS = ("termb.dll", "sdtapi.dll")


def configured_reader() -> Reader | None:
    """The reader the office chose, or None (no reader: no error)."""
    s = QSettings("mzdesk", "mzdesk")
    backend = s.value("idcard/backend", "none", str)
    keep_photo = s.value("idcard/keep_photo", False, bool)
    if backend == "sim":
        return SimulatedReader()
    if backend in ("termb", "sdtapi"):
        kind = TermbReader if backend == "termb" else SdtapiReader
        dll = s.value("idcard/dll", f"{backend}.dll", str)
        return kind.load(dll, s.value("idcard/port", 1001, int), keep_photo)
    return None  # none, or a wedge reader: it types into the form by itself


def keeps_photos() -> bool:
    """The office chose to keep card photos (off unless enabled)."""
    return QSettings("mzdesk", "mzdesk").value("idcard/keep_photo", False, bool)


def photo_folder(store) -> Path:
    """Where kept card photos go: beside the database."""
    return Path(store.path).parent / "idcard-photos"


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
    if card.photo and keeps_photos():
        save_photo(photo_folder(dialog.store), card)
    return warnings


def fill_id(dialog, typed: str) -> str:
    """A wedge reader's input into the form: the ID of the current member when it has
    none yet, else of a new member.  Returns what to tell the clerk ('' when it went in)."""
    from .household_dialog import COL

    try:
        number = parse_wedge(typed)
    except MzError as exc:
        return f"刷卡号码{exc.message}"
    row = dialog.table.currentRow()
    if 0 <= row < len(dialog.members):
        current = dialog.members[row].id_number or ""
        if current.strip().upper() == number:
            return f"读卡号码与第{row + 1}名成员一致"
        if current.strip():
            row = -1
    if not 0 <= row < len(dialog.members):
        dialog.add_member(focus=False)
        row = len(dialog.members) - 1
    dialog.table.item(row, COL["id_number"]).setText(number)
    return ""


class WedgeBox(QLineEdit):
    """Where a keyboard-wedge reader types: Enter fills the member's ID and clears the box
    for the next card (Enter stays here: it does not move on to the next field)."""

    def __init__(self, dialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.setPlaceholderText("刷卡/扫码：点此后放卡")
        self.setMaximumWidth(220)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.text().strip():
                message = fill_id(self.dialog, self.text())
                self.dialog.members_error.setText(message)
                if not message:
                    self.clear()
            event.accept()
            return
        super().keyPressEvent(event)


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
        self.backend.currentIndexChanged.connect(self._backend_changed)

    def _backend_changed(self, _index: int) -> None:
        """The driver file follows the chosen SDK unless the clerk typed another one."""
        code = self.backend.currentData()
        if code in ("termb", "sdtapi") and self.dll.text().strip() in ("", *DRIVERS):
            self.dll.setText(f"{code}.dll")

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
            if self.backend.currentData() == "wedge":
                text = "键盘输入式读卡器无需连接：在家庭表单的刷卡框中放卡即可"
            else:
                text = "未使用读卡器" if reader is None else reader.test()
        except MzError as exc:
            text = exc.message
        self.result.setText(text)
        return text


def read_card_button(dialog) -> QWidget | None:
    """读身份证 for the household form's member row (a 刷卡 box for a wedge reader);
    None when no reader is configured."""
    backend = QSettings("mzdesk", "mzdesk").value("idcard/backend", "none", str)
    if backend == "none":
        return None
    if backend == "wedge":
        return WedgeBox(dialog)
    button = QPushButton("读身份证")
    button.setAutoDefault(False)  # Enter in a field never reads a card

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
